import { describe, expect, it } from 'vitest';
import { isProviderError } from '../types.ts';
import { creationsReply } from './viduApi.ts';
import { viduStatus } from './viduStatus.ts';

// Replies shaped as https://platform.vidu.com/docs/get-generation shows them.
const reply = (fields: Record<string, unknown>) => creationsReply.parse({ state: 'created', err_code: '', credits: 0, payload: '', creations: [], ...fields });

describe('vidu state mapping', () => {
  it.each([
    ['created', { state: 'queued' }],
    ['queueing', { state: 'queued' }],
    ['processing', { state: 'running' }],
  ])('%s → %o', (state, expected) => {
    expect(viduStatus(reply({ state }), 't1')).toEqual(expected);
  });

  it('success → succeeded with every creation url as an mp4 output', () => {
    const creations = [{ id: 'c1', url: 'https://cdn.vidu.com/a.mp4', cover_url: 'https://cdn.vidu.com/a.jpg', watermarked_url: 'https://cdn.vidu.com/a_wm.mp4' }];
    expect(viduStatus(reply({ state: 'success', credits: 40, creations }), 't1')).toEqual({
      state: 'succeeded',
      outputs: [{ kind: 'url', url: 'https://cdn.vidu.com/a.mp4', contentType: 'video/mp4' }],
    });
  });

  it.each([
    ['TaskPromptPolicyViolation', 'content_filtered', 'the prompt was refused by Vidu’s content policy (TaskPromptPolicyViolation)'],
    ['AuditSubmitIllegal', 'content_filtered', 'the input did not pass Vidu’s safety review (AuditSubmitIllegal)'],
    ['CreationPolicyViolation', 'content_filtered', 'the generated video was withheld by Vidu’s content policy (CreationPolicyViolation)'],
    ['ImageDownloadFailure', 'upstream_error', 'Vidu could not download a reference image; check that its URL is publicly reachable (ImageDownloadFailure)'],
    ['SomethingNew', 'upstream_error', 'Vidu reported the task failed: SomethingNew'],
  ])('failed with err_code %s → %s', (errCode, code, message) => {
    expect(viduStatus(reply({ state: 'failed', err_code: errCode }), 't1')).toEqual({ state: 'failed', error: { code, message, upstreamCode: errCode } });
  });

  it('failed without an err_code still fails, saying so', () => {
    expect(viduStatus(reply({ state: 'failed', err_code: '' }), 't1')).toEqual({
      state: 'failed',
      error: { code: 'upstream_error', message: 'Vidu reported the task failed without an error code' },
    });
  });

  it('failed with UserCancelled → cancelled', () => {
    expect(viduStatus(reply({ state: 'failed', err_code: 'UserCancelled' }), 't1')).toEqual({ state: 'cancelled' });
  });

  it('a reply without `creations` or `err_code` at all is still read', () => {
    expect(viduStatus(creationsReply.parse({ state: 'processing' }), 't1')).toEqual({ state: 'running' });
  });

  it.each([
    ['success without a creation', { state: 'success', creations: [] }, /successful without a creation URL/],
    ['an undocumented state', { state: 'scheduled' }, /unknown state "scheduled"/],
  ])('%s is a retryable error, not a verdict', (_title, fields, message) => {
    let error: unknown;
    try {
      viduStatus(reply(fields), 't1');
    } catch (e) {
      error = e;
    }
    expect(isProviderError(error) && error.retryable).toBe(true);
    expect(String((error as Error).message)).toMatch(message);
  });
});
