/** reelay's TypeScript SDK. */
export { Reelay } from './client.ts';
export type { ClientOptions, FetchLike } from './core.ts';
export * from './errors.ts';
export { downloadVideo, type DownloadOptions, type DownloadProgress } from './download.ts';
export { poll, type PollOptions } from './poll.ts';
export { CursorPage, PagePromise, type CursorPageAnswer } from './pagination.ts';
export type { ListTasksParams, WaitOptions } from './resources/tasks.ts';
export type { CreateOptions } from './resources/videos.ts';
export type { UploadOptions } from './resources/uploads.ts';
export * from './types.ts';
export * from './models.generated.ts';
