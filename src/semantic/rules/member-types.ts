/** Measures and dimensions need a known `type`; `format` and `currency` must be valid. */
import type { ModelProblem } from '../../errors.js';
import { forEachMember, type Rule } from '../rule-context.js';
import { DIMENSION_TYPES, FORMATS, MEASURE_TYPES } from '../yaml-shapes.js';
import { suggest } from '../suggest.js';

const TYPES = { measures: MEASURE_TYPES, dimensions: DIMENSION_TYPES } as const;

export const memberTypes: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  forEachMember(ctx, (_cube, section, m, label) => {
    if (section === 'segments') return;
    const allowed: readonly string[] = TYPES[section];
    const type = m.get('type');
    if (type === undefined || type.value === null) {
      out.push({ file: m.file, line: m.line, message: `${label} has no type (one of ${allowed.join(', ')})` });
    } else if (typeof type.value === 'string' && !allowed.includes(type.value)) {
      const suggestion = suggest(type.value, allowed);
      out.push({
        file: m.file,
        line: type.line,
        message: `invalid type "${type.value}" for ${label} (one of ${allowed.join(', ')})`,
        ...(suggestion ? { suggestion } : {}),
      });
    }
    const format = m.str('format');
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
      const suggestion = suggest(format, FORMATS);
      out.push({
        file: m.file,
        line: m.lineOf('format'),
        message: `invalid format "${format}" for ${label} (one of ${FORMATS.join(', ')})`,
        ...(suggestion ? { suggestion } : {}),
      });
    }
    const currency = m.str('currency');
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) {
      out.push({ file: m.file, line: m.lineOf('currency'), message: `invalid currency "${currency}" for ${label}: use an ISO 4217 code such as "USD"` });
    }
    if (section === 'dimensions' && m.has('granularities') && m.str('type') !== undefined && m.str('type') !== 'time') {
      out.push({ file: m.file, line: m.get('granularities')!.keyLine, message: `${label} has granularities but is not of type time` });
    }
  });
  return out;
};
