/**
 * Cursor paging as openai-node does it: `await list()` gives the first page (with `data`, `hasNextPage()`,
 * `getNextPage()`), and `for await (const item of list())` walks every item across all pages, fetching
 * each next page only when the previous one is used up.
 *
 * Wire shape: `{"code": 200, "data": [...], "next_cursor": "opaque" | null}`; the next page is the same
 * query plus `cursor=<next_cursor>`.
 */
import { ReelayError } from './errors.ts';

export interface CursorPageAnswer<T> {
  data: T[];
  next_cursor?: string | null;
}

export type PageFetcher<T> = (cursor: string | undefined) => Promise<CursorPageAnswer<T>>;

export class CursorPage<T> implements AsyncIterable<T> {
  readonly data: T[];
  readonly nextCursor: string | null;
  readonly #fetchPage: PageFetcher<T>;

  constructor(answer: CursorPageAnswer<T>, fetchPage: PageFetcher<T>) {
    if (!Array.isArray(answer?.data)) throw new ReelayError('list answer has no data array');
    this.data = answer.data;
    this.nextCursor = answer.next_cursor ?? null;
    this.#fetchPage = fetchPage;
  }

  hasNextPage(): boolean {
    return this.nextCursor !== null && this.nextCursor !== '';
  }

  async getNextPage(): Promise<CursorPage<T>> {
    if (!this.hasNextPage()) throw new ReelayError('no next page; check hasNextPage() first');
    return new CursorPage(await this.#fetchPage(this.nextCursor!), this.#fetchPage);
  }

  async *iterPages(): AsyncGenerator<CursorPage<T>> {
    let page: CursorPage<T> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/** The value `list()` returns: a promise of the first page that is also iterable over every item. */
export class PagePromise<T> implements PromiseLike<CursorPage<T>>, AsyncIterable<T> {
  readonly #fetchPage: PageFetcher<T>;
  #first: Promise<CursorPage<T>> | undefined;

  constructor(fetchPage: PageFetcher<T>) {
    this.#fetchPage = fetchPage;
  }

  #firstPage(): Promise<CursorPage<T>> {
    // Requested once, on first use, whether awaited or iterated.
    this.#first ??= this.#fetchPage(undefined).then((answer) => new CursorPage(answer, this.#fetchPage));
    return this.#first;
  }

  then<R1 = CursorPage<T>, R2 = never>(
    onfulfilled?: ((value: CursorPage<T>) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#firstPage().then(onfulfilled, onrejected);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    yield* await this.#firstPage();
  }
}
