/**
 * Writing an export file: the query service has the engine write CSV, NDJSON or Parquet itself;
 * XLSX is the engine's compact JSON rows read line by line into exceljs's streaming workbook
 * writer (rows are committed as they go), so no format holds the result in memory.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import type { StrataQueryService } from '../query/query-service.js';
import type { RequestContext } from '../query/types.js';
import type { SemanticQuery } from '../semantic/query.js';
import { FORMATS, type ReportFormat } from './formats.js';

export interface WrittenFile {
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  readonly truncated: boolean;
}

export interface WriteOptions {
  readonly dir: string;
  readonly maxRows: number;
  readonly truncate?: boolean;
  readonly timeoutMs?: number;
}

export async function writeExportFile(
  query: Pick<StrataQueryService, 'exportRows'>,
  ctx: RequestContext,
  semantic: SemanticQuery,
  format: ReportFormat,
  options: WriteOptions,
): Promise<WrittenFile> {
  if (!query.exportRows) throw new Error('the query service cannot export');
  const info = FORMATS[format];
  const file = join(options.dir, `${randomUUID()}.${info.extension}`);
  const raw = format === 'xlsx' ? join(options.dir, `${randomUUID()}.jsonl`) : file;
  try {
    const r = await query.exportRows(ctx, semantic, {
      format: info.engine,
      file: raw,
      maxRows: options.maxRows,
      truncate: options.truncate,
      timeoutMs: options.timeoutMs,
    });
    if (format !== 'xlsx') return { file, rows: r.rows, bytes: r.bytes, truncated: r.truncated };
    await writeXlsx(
      raw,
      file,
      r.columns.map((c) => c.key),
      r.truncated,
    );
    return { file, rows: r.rows, bytes: (await stat(file)).size, truncated: r.truncated };
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  } finally {
    if (raw !== file) await rm(raw, { force: true });
  }
}

async function writeXlsx(source: string, target: string, header: readonly string[], truncated: boolean): Promise<void> {
  // Loaded on the first XLSX export: exceljs and its zip stack are ~150 modules (~0.2 s at start).
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: target, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet('Export');
  sheet.addRow([...header]).commit();
  const lines = createInterface({ input: createReadStream(source, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line) sheet.addRow(JSON.parse(line) as unknown[]).commit();
  }
  sheet.commit();
  if (truncated) {
    // Said in the file too: a reader of the spreadsheet alone must know it is not the whole result.
    const note = workbook.addWorksheet('Truncated');
    note.addRow(['This export was cut at the row limit; the query has more rows.']).commit();
    note.commit();
  }
  await workbook.commit();
}
