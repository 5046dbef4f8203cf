/**
 * DashScope's regional endpoints. Model, endpoint and API key must belong to the same region: a key from
 * one region is refused by another (alibabacloud.com/help/doc-detail/2865250.html). Workspace domains
 * (`https://{WorkspaceId}.ap-southeast-1.maas.aliyuncs.com`, `...cn-beijing...`) are given as `baseUrl`
 * together with the region they belong to.
 */
export const DASHSCOPE_REGIONS = {
  singapore: 'https://dashscope-intl.aliyuncs.com',
  virginia: 'https://dashscope-us.aliyuncs.com',
  beijing: 'https://dashscope.aliyuncs.com',
} as const;

export type DashscopeRegion = keyof typeof DASHSCOPE_REGIONS;

/** The international endpoint, as Alibaba's English documentation defaults to it. */
export const DEFAULT_REGION: DashscopeRegion = 'singapore';

export function isDashscopeRegion(value: unknown): value is DashscopeRegion {
  return typeof value === 'string' && Object.hasOwn(DASHSCOPE_REGIONS, value);
}
