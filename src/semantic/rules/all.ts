/** Every validation rule, in the order their problems are easiest to read. */
import type { Rule } from '../rule-context.js';
import { crossCubeRefs } from './cross-cube-refs.js';
import { cubeSource } from './cube-source.js';
import { drillMembersExist } from './drill-members.js';
import { duplicateNames } from './duplicate-names.js';
import { fieldShapes } from './field-shapes.js';
import { intervals } from './intervals.js';
import { joins } from './joins.js';
import { measureRefs } from './measure-refs.js';
import { memberRefs } from './member-refs.js';
import { memberTypes } from './member-types.js';
import { names } from './names.js';
import { preAggregations } from './pre-aggregations.js';
import { primaryKeys } from './primary-keys.js';
import { qualityRules } from './quality-rules.js';
import { refCycles } from './ref-cycles.js';
import { relationships } from './relationships.js';
import { requiredSql } from './required-sql.js';
import { scopeInheritance } from './scope-inheritance.js';
import { scopes } from './scopes.js';
import { sqlSyntax } from './sql-syntax.js';
import { tenant } from './tenant.js';
import { unknownKeys } from './unknown-keys.js';
import { viewJoinPaths } from './view-join-paths.js';
import { viewMembers } from './view-members.js';

export const RULES: readonly Rule[] = [
  unknownKeys,
  fieldShapes,
  names,
  duplicateNames,
  tenant,
  cubeSource,
  memberTypes,
  relationships,
  intervals,
  scopes,
  scopeInheritance,
  requiredSql,
  sqlSyntax,
  memberRefs,
  measureRefs,
  crossCubeRefs,
  refCycles,
  joins,
  primaryKeys,
  drillMembersExist,
  viewJoinPaths,
  viewMembers,
  qualityRules,
  preAggregations,
];
