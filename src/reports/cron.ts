/**
 * Cron expressions with a time zone (croner: 5 or 6 fields, seconds first when 6). An invalid
 * expression or zone is BAD_USER_INPUT naming it; schedules firing more often than the minimum
 * interval are refused.
 */
import { Cron } from 'croner';
import { UserError } from '../errors.js';

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function parseCron(expression: unknown, timezone: unknown, minIntervalSeconds = 0): Cron {
  if (typeof timezone !== 'string' || !validZone(timezone)) {
    throw new UserError('BAD_USER_INPUT', `unknown time zone ${JSON.stringify(timezone)}: use an IANA name such as "Europe/Paris" or "UTC"`, {
      zone: String(timezone),
    });
  }
  if (typeof expression !== 'string' || expression.length > 120) throw new UserError('BAD_USER_INPUT', 'cron must be a string of at most 120 characters');
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true });
  } catch (e) {
    throw new UserError('BAD_USER_INPUT', `invalid cron expression "${expression}": ${(e as Error).message}`, { cron: expression });
  }
  const [a, b] = cron.nextRuns(2);
  if (!a) throw new UserError('BAD_USER_INPUT', `cron expression "${expression}" never fires`, { cron: expression });
  if (b && minIntervalSeconds > 0 && b.getTime() - a.getTime() < minIntervalSeconds * 1000) {
    throw new UserError('BAD_USER_INPUT', `cron expression "${expression}" fires more often than every ${minIntervalSeconds} s`, { cron: expression });
  }
  return cron;
}

/** The first time after `after` the schedule fires (undefined: never again). */
export function nextRun(expression: string, timezone: string, after: Date): Date | undefined {
  return new Cron(expression, { timezone, paused: true }).nextRun(after) ?? undefined;
}
