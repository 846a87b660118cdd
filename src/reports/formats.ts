/** Export formats: how the engine writes each, and what the download says it is. */
import type { ExportFormat } from '../engine/engine.js';
import { UserError } from '../errors.js';

export type ReportFormat = 'csv' | 'xlsx' | 'parquet' | 'ndjson';

export const EXPORT_FORMATS: readonly ReportFormat[] = ['csv', 'xlsx', 'parquet', 'ndjson'];

export interface FormatInfo {
  /** What the engine writes (XLSX: compact JSON rows the workbook writer reads). */
  readonly engine: ExportFormat;
  readonly contentType: string;
  readonly extension: string;
}

export const FORMATS: Readonly<Record<ReportFormat, FormatInfo>> = {
  csv: { engine: 'CSVWithNames', contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  ndjson: { engine: 'JSONEachRow', contentType: 'application/x-ndjson', extension: 'ndjson' },
  parquet: { engine: 'Parquet', contentType: 'application/vnd.apache.parquet', extension: 'parquet' },
  xlsx: { engine: 'JSONCompactEachRow', contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', extension: 'xlsx' },
};

export function checkFormat(value: unknown): ReportFormat {
  const f = typeof value === 'string' ? value.toLowerCase() : value;
  if (!(EXPORT_FORMATS as readonly unknown[]).includes(f)) {
    throw new UserError('BAD_USER_INPUT', `unknown export format ${JSON.stringify(value)} (one of ${EXPORT_FORMATS.join(', ')})`, { formats: EXPORT_FORMATS });
  }
  return f as ReportFormat;
}
