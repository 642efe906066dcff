/**
 * The fixed latency histogram kept in the hourly rollups, from which the dashboards
 * read p95 latency without touching raw rows. Bucket i counts latencies in
 * [LATENCY_BUCKET_UPPER_BOUNDS_MS[i-1], LATENCY_BUCKET_UPPER_BOUNDS_MS[i]).
 *
 * Precision: a percentile is interpolated linearly inside the bucket that holds it, so it
 * is off by at most that bucket's width (≤ 25 % of the value between 100 ms and 60 s,
 * wider in the open last bucket, which is capped by the observed maximum).
 * Changing these bounds changes the rollup table's columns and needs a new migration.
 */

export const LATENCY_BUCKET_UPPER_BOUNDS_MS: readonly number[] = [
  25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10000, 15000, 20000,
  30000, 60000, 120000, 300000, Number.POSITIVE_INFINITY,
];

export const LATENCY_BUCKET_COUNT = LATENCY_BUCKET_UPPER_BOUNDS_MS.length;

/** Column names `latency_bucket_00` … in bucket order. */
export const LATENCY_BUCKET_COLUMNS: readonly string[] = LATENCY_BUCKET_UPPER_BOUNDS_MS.map(
  (_bound, index) => `latency_bucket_${String(index).padStart(2, '0')}`,
);

export function latencyBucketIndex(latencyMs: number): number {
  for (let index = 0; index < LATENCY_BUCKET_COUNT; index += 1) {
    if (latencyMs < (LATENCY_BUCKET_UPPER_BOUNDS_MS[index] as number)) return index;
  }
  return LATENCY_BUCKET_COUNT - 1;
}

export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
}

/**
 * The `quantile` (0–1) of the histogram, interpolated inside its bucket; null when empty.
 * `maximumMs` caps the result (and bounds the open last bucket).
 */
export function histogramQuantile(histogram: readonly number[], quantile: number, maximumMs: number): number | null {
  let total = 0;
  for (const count of histogram) total += count;
  if (total === 0) return null;
  const target = quantile * total;
  let cumulative = 0;
  for (let index = 0; index < histogram.length; index += 1) {
    const count = histogram[index] ?? 0;
    if (count > 0 && cumulative + count >= target) {
      const lower = index === 0 ? 0 : (LATENCY_BUCKET_UPPER_BOUNDS_MS[index - 1] as number);
      const bound = LATENCY_BUCKET_UPPER_BOUNDS_MS[index] as number;
      const upper = Number.isFinite(bound) ? Math.min(bound, Math.max(maximumMs, lower)) : Math.max(maximumMs, lower);
      const fraction = (target - cumulative) / count;
      return Math.min(Math.round(lower + (upper - lower) * fraction), Math.max(maximumMs, 0));
    }
    cumulative += count;
  }
  return maximumMs;
}
