/**
 * Calendar arithmetic on day numbers (UTC) counted from the first day of the demo window, so the
 * plan never depends on the local time zone.
 */
const DAY_MS = 86_400_000;

export interface DemoCalendar {
  /** Day offset from the window's first day -> "YYYY-MM-DD". */
  dayToDate(day: number): string;
  dayToDateTime(day: number, secondOfDay: number): string;
  /** ISO: Monday=1 .. Sunday=7, like ClickHouse toDayOfWeek. */
  dayOfWeek(day: number): number;
  dayOfYear(day: number): number;
}

/** The calendar of a window whose first day starts at `startMs` (midnight UTC). */
export function demoCalendar(startMs: number): DemoCalendar {
  return {
    dayToDate: (day) => new Date(startMs + day * DAY_MS).toISOString().slice(0, 10),
    dayToDateTime: (day, secondOfDay) => new Date(startMs + day * DAY_MS + secondOfDay * 1000).toISOString().slice(0, 19).replace('T', ' '),
    dayOfWeek(day) {
      const d = new Date(startMs + day * DAY_MS).getUTCDay();
      return d === 0 ? 7 : d;
    },
    dayOfYear(day) {
      const t = startMs + day * DAY_MS;
      const y = new Date(t).getUTCFullYear();
      return Math.floor((t - Date.UTC(y, 0, 1)) / DAY_MS) + 1;
    },
  };
}
