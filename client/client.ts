/** The client: one HttpCore shared by one object per resource, as openai-node is laid out. */
import { HttpCore, type ClientOptions } from './core.ts';
import { downloadVideo, type DownloadOptions } from './download.ts';
import { BalanceResource, Models } from './resources/catalog.ts';
import { Tasks } from './resources/tasks.ts';
import { Uploads } from './resources/uploads.ts';
import { Videos } from './resources/videos.ts';

export class Reelay {
  readonly videos: Videos;
  readonly tasks: Tasks;
  readonly uploads: Uploads;
  readonly models: Models;
  readonly balance: BalanceResource;
  readonly #core: HttpCore;

  constructor(opts: ClientOptions) {
    this.#core = new HttpCore(opts);
    this.tasks = new Tasks(this.#core);
    this.videos = new Videos(this.#core, this.tasks);
    this.uploads = new Uploads(this.#core);
    this.models = new Models(this.#core);
    this.balance = new BalanceResource(this.#core);
  }

  get baseUrl(): string {
    return this.#core.baseUrl;
  }

  /** Streams a result URL to `path` (temp file, then rename), with this client's fetch and no API key. */
  downloadVideo(url: string, path: string, opts: Omit<DownloadOptions, 'fetch'> = {}): Promise<{ path: string; bytes: number }> {
    return downloadVideo(url, path, { ...opts, fetch: this.#core.fetch });
  }
}
