/** Session settings answered locally: SET/RESET/SHOW and the ParameterStatus values drivers read. */
import { SqlError, SQLSTATE } from './sql-error.js';

/**
 * The version of the Postgres that answers catalog queries (PGlite's), announced everywhere so that
 * SHOW, ParameterStatus, version() and current_setting() agree (test/integration/sqlproxy checks it).
 */
export const SERVER_VERSION = '18.6';
export const SERVER_VERSION_NUM = '180006';
/** The one database Strata serves, whatever name a client connects with. */
export const DATABASE_NAME = 'strata';

/** Canonical names (as SHOW prints them) of the settings kept per session. */
const CANONICAL: Readonly<Record<string, string>> = {
  server_version: 'server_version',
  server_version_num: 'server_version_num',
  server_encoding: 'server_encoding',
  client_encoding: 'client_encoding',
  datestyle: 'DateStyle',
  intervalstyle: 'IntervalStyle',
  timezone: 'TimeZone',
  integer_datetimes: 'integer_datetimes',
  standard_conforming_strings: 'standard_conforming_strings',
  application_name: 'application_name',
  is_superuser: 'is_superuser',
  session_authorization: 'session_authorization',
  transaction_isolation: 'transaction_isolation',
  transaction_read_only: 'transaction_read_only',
  default_transaction_read_only: 'default_transaction_read_only',
  default_transaction_isolation: 'default_transaction_isolation',
  search_path: 'search_path',
  extra_float_digits: 'extra_float_digits',
  statement_timeout: 'statement_timeout',
  lc_messages: 'lc_messages',
  lc_monetary: 'lc_monetary',
  lc_numeric: 'lc_numeric',
  lc_time: 'lc_time',
  max_identifier_length: 'max_identifier_length',
  bytea_output: 'bytea_output',
};

/** Settings Postgres reports to the client with ParameterStatus whenever they change. */
export const REPORTED = new Set([
  'server_version',
  'server_encoding',
  'client_encoding',
  'DateStyle',
  'IntervalStyle',
  'TimeZone',
  'integer_datetimes',
  'standard_conforming_strings',
  'application_name',
  'is_superuser',
  'session_authorization',
]);

export function defaultSettings(user: string, applicationName: string): Map<string, string> {
  return new Map<string, string>([
    ['server_version', SERVER_VERSION],
    ['server_version_num', SERVER_VERSION_NUM],
    ['server_encoding', 'UTF8'],
    ['client_encoding', 'UTF8'],
    ['DateStyle', 'ISO, MDY'],
    ['IntervalStyle', 'postgres'],
    ['TimeZone', 'UTC'],
    ['integer_datetimes', 'on'],
    ['standard_conforming_strings', 'on'],
    ['application_name', applicationName],
    ['is_superuser', 'off'],
    ['session_authorization', user],
    ['transaction_isolation', 'read committed'],
    ['default_transaction_isolation', 'read committed'],
    ['transaction_read_only', 'on'],
    ['default_transaction_read_only', 'on'],
    ['search_path', '"$user", public'],
    ['extra_float_digits', '1'],
    ['statement_timeout', '0'],
    ['max_identifier_length', '63'],
    ['bytea_output', 'hex'],
    ['lc_messages', 'C'],
    ['lc_monetary', 'C'],
    ['lc_numeric', 'C'],
    ['lc_time', 'C'],
  ]);
}

export function canonicalName(name: string): string | undefined {
  return CANONICAL[name.toLowerCase()];
}

export function isReported(canonical: string): boolean {
  return REPORTED.has(canonical);
}

const FIXED = new Set([
  'server_version',
  'server_version_num',
  'server_encoding',
  'integer_datetimes',
  'is_superuser',
  'max_identifier_length',
  'session_authorization',
]);

/**
 * Validates a SET and returns the value to store. Settings that would change how results are
 * encoded must keep the only encoding the proxy speaks.
 */
export function validateSetting(canonical: string | undefined, name: string, value: string): string {
  if (!canonical) return value; // unknown settings are accepted and ignored (drivers set many)
  if (FIXED.has(canonical)) throw new SqlError('55P02', `parameter "${name}" cannot be changed`);
  switch (canonical) {
    case 'client_encoding': {
      if (!/^(utf-?8|unicode)$/i.test(value.replace(/'/g, '')))
        throw new SqlError(SQLSTATE.NOT_SUPPORTED, `client_encoding ${value} is not supported; only UTF8`);
      return 'UTF8';
    }
    case 'DateStyle': {
      if (!/iso/i.test(value)) throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'only DateStyle ISO is supported');
      return 'ISO, MDY';
    }
    case 'TimeZone':
      return normalizeTimeZone(value);
    case 'standard_conforming_strings':
      if (!/^(on|true|1)$/i.test(value)) throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'standard_conforming_strings must stay on');
      return 'on';
    case 'IntervalStyle':
      return 'postgres';
    case 'transaction_read_only':
    case 'default_transaction_read_only':
      if (!/^(on|true|1|yes)$/i.test(value)) throw new SqlError(SQLSTATE.READ_ONLY, "Strata's SQL interface is read-only");
      return 'on';
    default:
      return value;
  }
}

/** An IANA zone name (UTC aliases folded), or 22023. */
export function normalizeTimeZone(value: string): string {
  const v = value.trim();
  if (/^(utc|gmt|z|zulu|etc\/utc|etc\/gmt|universal|localtime|default)$/i.test(v)) return 'UTC';
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
    return resolved === 'Etc/UTC' || resolved === 'Etc/GMT' ? 'UTC' : v;
  } catch {
    throw new SqlError(SQLSTATE.INVALID_PARAMETER_VALUE, `invalid value for parameter "TimeZone": "${value}"`);
  }
}
