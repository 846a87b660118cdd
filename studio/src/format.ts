/** Numbers and times as people read them, by the member's format from the annotation. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatValue(value: unknown, format: string | null | undefined, type?: string): string {
  if (value === null || value === undefined) return '–';
  if (type === 'time' && typeof value === 'string')
    return value
      .replace('T00:00:00.000', '')
      .replace('T', ' ')
      .replace(/\.000$/, '');
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' && type === 'number' ? Number(value) : Number.NaN;
  if (Number.isNaN(n)) return String(value);
  switch (format) {
    case 'percent':
      return `${decimal.format(n)} %`;
    case 'currency':
      return money.format(n);
    case 'integer':
    case 'id':
      return integer.format(n);
    default:
      return decimal.format(n);
  }
}

/** "+12.5 %", "−3 %", or "–" when there is nothing to compare with. */
export function formatChange(percent: number | null | undefined): string {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return '–';
  const sign = percent > 0 ? '+' : percent < 0 ? '−' : '±';
  return `${sign}${decimal.format(Math.abs(percent))} %`;
}
