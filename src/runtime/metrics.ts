/**
 * Prometheus metrics (prom-client), served at GET /metrics. Counters are bumped where things happen;
 * figures that live in the store (queue depth, spend) are read when scraped.
 */
import client from 'prom-client';

export class Metrics {
  readonly registry = new client.Registry();

  readonly httpRequests = new client.Counter({
    name: 'reelay_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new client.Histogram({
    name: 'reelay_http_request_duration_seconds',
    help: 'HTTP request latency by route.',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  readonly tasksSubmitted = new client.Counter({
    name: 'reelay_tasks_submitted_total',
    help: 'Tasks accepted, by model.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly tasksFinished = new client.Counter({
    name: 'reelay_tasks_finished_total',
    help: 'Tasks that reached a terminal status, by model and status.',
    labelNames: ['model', 'status'] as const,
    registers: [this.registry],
  });

  readonly rejected = new client.Counter({
    name: 'reelay_requests_rejected_total',
    help: 'Requests refused, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'reelay_process_' });
  }

  /**
   * Counts and times one HTTP answer. The labelled series are looked up once per (route, method, status)
   * and kept: prom-client hashes a label object on every call otherwise, a measurable share of a poll.
   */
  observeHttp(route: string, method: string, status: number, seconds: number): void {
    const id = `${status} ${method} ${route}`;
    let s = this.httpSeries.get(id);
    if (!s) {
      s = { count: this.httpRequests.labels(route, method, String(status)), duration: this.httpDuration.labels(route, method) };
      this.httpSeries.set(id, s);
    }
    s.count.inc();
    s.duration.observe(seconds);
  }

  /** Counts an accepted task by its model (same caching as observeHttp). */
  taskSubmitted(model: string): void {
    let c = this.submittedSeries.get(model);
    if (!c) this.submittedSeries.set(model, (c = this.tasksSubmitted.labels(model)));
    c.inc();
  }

  /** Counts a refusal by its error code (same caching as observeHttp). */
  reject(code: string): void {
    let c = this.rejectedSeries.get(code);
    if (!c) this.rejectedSeries.set(code, (c = this.rejected.labels(code)));
    c.inc();
  }

  private readonly httpSeries = new Map<string, { count: client.Counter.Internal; duration: client.Histogram.Internal<string> }>();
  private readonly rejectedSeries = new Map<string, client.Counter.Internal>();
  private readonly submittedSeries = new Map<string, client.Counter.Internal>();

  /** Registers a gauge whose value is read at scrape time. */
  gauge(name: string, help: string, labelNames: string[], collect: (set: (labels: Record<string, string>, value: number) => void) => Promise<void> | void): void {
    const g = new client.Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await collect((labels, value) => this.set(labels, value));
      },
    });
    void g;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
