/**
 * Calendar periods for budgets in the user's time zone: the day and the month an instant
 * falls in, as a label (`2026-12-06`, `2026-12`) and their UTC start and end instants.
 */
import { timeZoneOffsetMs } from '../../storage/time-zone-buckets.js';

const DAY_MS = 86_400_000;

export interface Period {
  label: string;
  start: number;
  end: number;
}

/** The instant a local wall-clock time (given as if it were UTC) happens in the zone. */
function zonedInstant(wallMs: number, timeZone: string): number {
  const guess = wallMs - timeZoneOffsetMs(wallMs, timeZone);
  return wallMs - timeZoneOffsetMs(guess, timeZone);
}

function wallClock(now: number, timeZone: string): Date {
  return new Date(now + timeZoneOffsetMs(now, timeZone));
}

export function dayPeriod(now: number, timeZone: string): Period {
  const wall = wallClock(now, timeZone);
  const midnight = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate());
  return { label: new Date(midnight).toISOString().slice(0, 10), start: zonedInstant(midnight, timeZone), end: zonedInstant(midnight + DAY_MS, timeZone) };
}

export function monthPeriod(now: number, timeZone: string): Period {
  const wall = wallClock(now, timeZone);
  const first = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), 1);
  const next = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth() + 1, 1);
  return { label: new Date(first).toISOString().slice(0, 7), start: zonedInstant(first, timeZone), end: zonedInstant(next, timeZone) };
}
