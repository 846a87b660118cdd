/** Calendar arithmetic on day numbers (UTC), so the plan never depends on the local time zone. */
import { DEMO_START_DATE } from './tenants.js';

const DAY_MS = 86_400_000;
const START_MS = Date.parse(`${DEMO_START_DATE}T00:00:00Z`);

/** Day offset from DEMO_START_DATE -> "YYYY-MM-DD". */
export function dayToDate(day: number): string {
  return new Date(START_MS + day * DAY_MS).toISOString().slice(0, 10);
}

export function dayToDateTime(day: number, secondOfDay: number): string {
  return new Date(START_MS + day * DAY_MS + secondOfDay * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function dayOfWeek(day: number): number {
  const d = new Date(START_MS + day * DAY_MS).getUTCDay();
  return d === 0 ? 7 : d; // ISO: Monday=1 .. Sunday=7, like ClickHouse toDayOfWeek
}

export function dayOfYear(day: number): number {
  const t = START_MS + day * DAY_MS;
  const y = new Date(t).getUTCFullYear();
  return Math.floor((t - Date.UTC(y, 0, 1)) / DAY_MS) + 1;
}
