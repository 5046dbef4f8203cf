/**
 * Prometheus metrics (prom-client), served at GET /metrics. Counters are bumped where things happen;
 * figures that live in the store (queue depth, spend) are read when scraped.
 */
import client from 'prom-client';
import { BatchedCounter, BatchedHistogram, type CounterSeries, type HistogramSeries } from './batchedMetrics.ts';

export class Metrics {
  readonly registry = new client.Registry();

  // Counted on every request: batched, handed to prom-client when scraped (batchedMetrics.ts).
  private readonly httpRequests = new BatchedCounter(this.registry, {
    name: 'reelay_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'],
  });

  private readonly httpDuration = new BatchedHistogram(
    this.registry,
    'reelay_http_request_duration_seconds',
    'HTTP request latency by route.',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  );

  private readonly tasksSubmitted = new BatchedCounter(this.registry, {
    name: 'reelay_tasks_submitted_total',
    help: 'Tasks accepted, by model.',
    labelNames: ['model'],
  });

  private readonly rejected = new BatchedCounter(this.registry, {
    name: 'reelay_requests_rejected_total',
    help: 'Requests refused, by error code.',
    labelNames: ['code'],
  });

  readonly tasksFinished = new client.Counter({
    name: 'reelay_tasks_finished_total',
    help: 'Tasks that reached a terminal status, by model and status.',
    labelNames: ['model', 'status'] as const,
    registers: [this.registry],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'reelay_process_' });
  }

  /** Counts and times one HTTP answer. */
  observeHttp(route: string, method: string, status: number, seconds: number): void {
    const id = `${status} ${method} ${route}`;
    let s = this.httpSeries.get(id);
    if (!s) {
      const count = this.httpRequests.series({ route, method, status: String(status) });
      const latencyId = `${method} ${route}`;
      let duration = this.latencySeries.get(latencyId);
      if (!duration) this.latencySeries.set(latencyId, (duration = this.httpDuration.series({ route, method })));
      this.httpSeries.set(id, (s = { count, duration }));
    }
    s.count.pending++;
    this.httpDuration.observe(s.duration, seconds);
  }

  /** Counts an accepted task by its model. */
  taskSubmitted(model: string): void {
    let s = this.submittedSeries.get(model);
    if (!s) this.submittedSeries.set(model, (s = this.tasksSubmitted.series({ model })));
    s.pending++;
  }

  /** Counts a refusal by its error code. */
  reject(code: string): void {
    let s = this.rejectedSeries.get(code);
    if (!s) this.rejectedSeries.set(code, (s = this.rejected.series({ code })));
    s.pending++;
  }

  private readonly httpSeries = new Map<string, { count: CounterSeries; duration: HistogramSeries }>();
  private readonly latencySeries = new Map<string, HistogramSeries>();
  private readonly rejectedSeries = new Map<string, CounterSeries>();
  private readonly submittedSeries = new Map<string, CounterSeries>();

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
