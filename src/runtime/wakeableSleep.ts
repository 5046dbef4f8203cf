/**
 * A sleep that a wake-up cuts short: worker loops sleep until their next due work or until someone says
 * there is new work now.
 */
export class WakeableSleep {
  private wakeUp: (() => void) | null = null;
  private pending = false;

  /** Sleeps up to `ms`; returns early on wake(). A wake() that came while awake makes the next sleep return at once. */
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.pending = true;
  }
}
