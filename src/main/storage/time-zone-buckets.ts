/**
 * Hour and day buckets in the user's IANA time zone. SQLite has no time-zone support, so
 * the range is cut into segments of constant UTC offset (found with Intl, one probe per
 * day plus a binary search around each DST change) and every instant is bucketed with
 * its segment's offset, in JavaScript.
 *
 * Rollups are per UTC hour, so with them a local bucket is exact for every zone whose
 * offset is a whole number of hours (nearly all). In zones offset by 30 or 45 minutes
 * (India, Nepal, parts of Australia) a rolled-up UTC hour is attributed to the local
 * bucket holding its start: hourly buckets there are labelled by local hour but may be
 * off by that fraction, and a day's first or last 30–45 minutes can land in the
 * neighbouring day. Raw rows at the range edges are always bucketed exactly.
 */

export type BucketSize = 'hour' | 'day';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a RangeError for names Intl does not know. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** The zone's UTC offset at an instant, in ms (local = UTC + offset). */
export function timeZoneOffsetMs(epochMs: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  const parts = formatterFor(timeZone).formatToParts(new Date(epochMs));
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const hour = field('hour') % 24;
  const localAsUtc = Date.UTC(field('year'), field('month') - 1, field('day'), hour, field('minute'), field('second'));
  const wholeSeconds = Math.floor(epochMs / 1000) * 1000;
  return Math.round((localAsUtc - wholeSeconds) / MINUTE_MS) * MINUTE_MS;
}

export interface OffsetSegment {
  start: number;
  end: number;
  offsetMs: number;
}

/** Splits [from, to) into maximal pieces of constant offset. */
export function offsetSegments(from: number, to: number, timeZone: string): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let segmentStart = from;
  let offset = timeZoneOffsetMs(from, timeZone);
  let probe = from;
  while (probe < to) {
    const next = Math.min(probe + DAY_MS, to);
    const nextOffset = timeZoneOffsetMs(next === to ? to - 1 : next, timeZone);
    if (nextOffset !== offset) {
      // Binary search the first millisecond with the new offset in (probe, next].
      let low = probe;
      let high = next === to ? to - 1 : next;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (timeZoneOffsetMs(middle, timeZone) === offset) low = middle;
        else high = middle;
      }
      const change = high;
      segments.push({ start: segmentStart, end: change, offsetMs: offset });
      segmentStart = change;
      offset = timeZoneOffsetMs(change, timeZone);
    }
    probe = next;
  }
  segments.push({ start: segmentStart, end: to, offsetMs: offset });
  return segments;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function offsetLabel(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const minutes = Math.abs(offsetMs) / MINUTE_MS;
  return `${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

export interface Bucket {
  /** The bucket's first instant (epoch ms, UTC). Distinct for the two 01:00 hours of a DST fall-back. */
  start: number;
  /** Local label: `2025-03-09` for days, `2025-03-09T03:00-04:00` for hours. */
  label: string;
}

/**
 * Maps instants to local buckets. Instants must be fed in any order within the range
 * given to the constructor; lookups are O(log segments) and day starts are cached.
 */
export class TimeZoneBucketer {
  private readonly segments: OffsetSegment[];
  private readonly dayStarts = new Map<number, number>();

  constructor(
    from: number,
    to: number,
    private readonly timeZone: string,
    private readonly size: BucketSize,
  ) {
    assertTimeZone(timeZone);
    // Pad by a day on both sides so bucket starts just outside the range resolve too.
    this.segments = offsetSegments(from - DAY_MS, to + DAY_MS, timeZone);
  }

  private offsetAt(epochMs: number): number {
    const segments = this.segments;
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((segments[middle] as OffsetSegment).start <= epochMs) low = middle;
      else high = middle - 1;
    }
    const segment = segments[low] as OffsetSegment;
    if (epochMs < segment.start || epochMs >= segment.end) return timeZoneOffsetMs(epochMs, this.timeZone);
    return segment.offsetMs;
  }

  /** The constant-offset pieces of [from, to), which must lie within the constructor's range (± a day). */
  segmentsBetween(from: number, to: number): OffsetSegment[] {
    return this.segments
      .filter((segment) => segment.end > from && segment.start < to)
      .map((segment) => ({ start: Math.max(segment.start, from), end: Math.min(segment.end, to), offsetMs: segment.offsetMs }));
  }

  /** Bucket length in ms before DST adjustments (an hour or 24 hours). */
  get nominalSize(): number {
    return this.size === 'hour' ? HOUR_MS : DAY_MS;
  }

  bucketStart(epochMs: number): number {
    const offset = this.offsetAt(epochMs);
    const local = epochMs + offset;
    if (this.size === 'hour') {
      return Math.floor(local / HOUR_MS) * HOUR_MS - offset;
    }
    const localDay = Math.floor(local / DAY_MS) * DAY_MS;
    let start = this.dayStarts.get(localDay);
    if (start === undefined) {
      // Local midnight may have a different offset than this instant (DST changes at 02:00).
      start = localDay - offset;
      const midnightOffset = this.offsetAt(start);
      if (midnightOffset !== offset) start = localDay - midnightOffset;
      this.dayStarts.set(localDay, start);
    }
    return start;
  }

  label(bucketStart: number): string {
    const offset = this.offsetAt(bucketStart);
    const local = new Date(bucketStart + offset);
    const day = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
    if (this.size === 'day') return day;
    return `${day}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}${offsetLabel(offset)}`;
  }

  /** Every bucket overlapping [from, to), in order, including empty ones. */
  bucketsBetween(from: number, to: number): Bucket[] {
    const buckets: Bucket[] = [];
    let start = this.bucketStart(from);
    while (start < to) {
      buckets.push({ start, label: this.label(start) });
      // An instant 36 hours after a day's start always lies in the next local day (days last 23 to 25 hours).
      const next = this.bucketStart(start + (this.size === 'hour' ? HOUR_MS : DAY_MS + 12 * HOUR_MS));
      if (next <= start) break;
      start = next;
    }
    return buckets;
  }
}
