import { describe, expect, it } from 'vitest';
import client from 'prom-client';
import { BatchedCounter, BatchedHistogram } from '../../src/runtime/batchedMetrics.ts';
import { Metrics } from '../../src/runtime/metrics.ts';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED: [string, string, number][] = [
  ['/v1/tasks/:id', 'GET', 0.0004],
  ['/v1/tasks/:id', 'GET', 0.001], // on a bound: counted in that bucket (le is "less than or equal")
  ['/v1/tasks/:id', 'GET', 0.05],
  ['/v1/videos/generations', 'POST', 2.5], // above every bound: +Inf only
  ['/v1/tasks/:id', 'GET', 0.3],
  ['/v1/videos/generations', 'POST', 0.007],
];

describe('batched metrics', () => {
  it('expose exactly what prom-client’s own Counter and Histogram would for the same events', async () => {
    const ours = new client.Registry();
    const theirs = new client.Registry();
    const counter = new BatchedCounter(ours, { name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'method'] });
    const histogram = new BatchedHistogram(ours, 'x_seconds', 'Latency.', BOUNDS);
    const promCounter = new client.Counter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'method'], registers: [theirs] });
    const promHistogram = new client.Histogram({ name: 'x_seconds', help: 'Latency.', labelNames: ['route', 'method'], buckets: BOUNDS, registers: [theirs] });

    const series = new Map<string, { c: ReturnType<typeof counter.series>; h: ReturnType<typeof histogram.series> }>();
    const record = () => {
      for (const [route, method, seconds] of OBSERVED) {
        let s = series.get(route);
        if (!s) series.set(route, (s = { c: counter.series({ route, method }), h: histogram.series({ route, method }) }));
        s.c.pending++;
        histogram.observe(s.h, seconds);
        promCounter.inc({ route, method });
        promHistogram.observe({ route, method }, seconds);
      }
    };
    record();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // Counts keep adding up across scrapes (the counter's pending counts are handed over once each).
    record();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('a reset registry starts again from zero and keeps counting', async () => {
    const registry = new client.Registry();
    const histogram = new BatchedHistogram(registry, 'y_seconds', 'Latency.', BOUNDS);
    const s = histogram.series({ route: '/r' });
    histogram.observe(s, 0.5);
    registry.resetMetrics();
    histogram.observe(s, 0.05);
    expect(await registry.metrics()).toContain('y_seconds_count{route="/r"} 1');
    expect(await registry.metrics()).toContain('y_seconds_bucket{le="0.1",route="/r"} 1');
  });

  it('the gateway’s metrics count requests, latencies, refusals and submits by their labels', async () => {
    const m = new Metrics();
    m.observeHttp('/v1/tasks/:id', 'GET', 200, 0.002);
    m.observeHttp('/v1/tasks/:id', 'GET', 200, 0.02);
    m.observeHttp('/v1/tasks/:id', 'GET', 404, 0.001);
    m.reject('not_found');
    m.taskSubmitted('viduq3');
    m.taskSubmitted('viduq3');
    const { body } = await m.render();
    expect(body).toContain('reelay_http_requests_total{route="/v1/tasks/:id",method="GET",status="200"} 2');
    expect(body).toContain('reelay_http_requests_total{route="/v1/tasks/:id",method="GET",status="404"} 1');
    expect(body).toContain('reelay_http_request_duration_seconds_count{route="/v1/tasks/:id",method="GET"} 3');
    expect(body).toContain('reelay_http_request_duration_seconds_bucket{le="0.0025",route="/v1/tasks/:id",method="GET"} 2');
    expect(body).toContain('reelay_requests_rejected_total{code="not_found"} 1');
    expect(body).toContain('reelay_tasks_submitted_total{model="viduq3"} 2');
  });
});
