/**
 * Keeps the writing connection's memory map of the database file as large as the file.
 *
 * SQLite maps the file once, at its size then, and grows a connection's map only when that connection
 * extends the file itself (a size hint before a checkpoint writes past the end). Here the checkpoint
 * thread extends it, so the gateway's own map stayed at the size the file had when the gateway started,
 * and every task written since was read with read(2) into the small page cache (measured: 23 MiB mapped
 * of a 117 MiB file after 80,000 tasks). Setting `mmap_size` to a new value maps the whole file again.
 *
 * A new map drops the old one's page tables, so each page is faulted in again on its next read, and the
 * unmapping itself takes time in proportion to what was mapped. So the file is looked at every few seconds
 * and mapped again only once it has outgrown the map by a quarter, or by the page cache's size (which holds
 * the newest pages anyway) if that is more: a few times over a database's life, not per commit
 * (docs/decisions/0012-performance.md, item 46).
 */
import fs from 'node:fs';
import type Database from 'better-sqlite3';

/** How often the file's size is looked at. */
const CHECK_EVERY_MS = 5_000;
/** The two limits alternated between: SQLite maps again only when the limit changes. */
const NUDGE_BYTES = 64 * 1024;

export class FileMap {
  /** Bytes of the file the connection's map covers (as of the last map). */
  private mapped: number;
  private nudged = false;
  private readonly timer: NodeJS.Timeout;
  /** Times the file was mapped again (tests read it). */
  remaps = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    /** The map's ceiling, bytes (`mmap_size`). */
    private readonly limit: number,
    /** The page cache's size, bytes: the least growth worth a new map. */
    private readonly cacheBytes: number,
  ) {
    this.mapped = Math.min(this.fileSize(), limit);
    this.timer = setInterval(() => this.refresh(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Maps the file again if it has outgrown the map enough; returns whether it did. */
  refresh(): boolean {
    if (!this.db.open || this.mapped >= this.limit) return false;
    const size = this.fileSize();
    if (size - this.mapped < Math.max(this.cacheBytes, this.mapped / 4)) return false;
    this.nudged = !this.nudged;
    this.db.pragma(`mmap_size = ${this.limit - (this.nudged ? NUDGE_BYTES : 0)}`);
    this.mapped = Math.min(size, this.limit);
    this.remaps++;
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private fileSize(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }
}
