/**
 * ad_reach for the demo (specification 001, unique reach): per campaign and day, people drawn from
 * the tenant's audience pool (the plan's user_pool, the same people web_sessions draws from), each
 * with the impressions they saw that day. People recur across days and campaigns, so reach over a
 * period is well below the sum of daily reach: the reason reach is a distinct count.
 */
import { CAMPAIGN_DAYS, stochasticRound, u } from './facts.js';

/** Reach rows per ad_performance row (the plan's rows_per_day already carries the scale). */
const PEOPLE_PER_AD_ROW = 0.8;

export const AD_REACH_SQL = `
INSERT INTO ad_reach (tenant_id, date, campaign_id, platform, person_id, country, device, impressions)
SELECT tenant_id, date, campaign_id, platform, person_id,
  argMin(country_drawn, h) AS country, argMin(device_drawn, h) AS device, toUInt32(sum(seen)) AS impressions
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, 'reach', campaign_id, date, j) AS h,
    concat(tenant_id, '-prs-', toString(user_prefix + intHash64(h + 80) % greatest(user_pool, 50))) AS person_id,
    countries[arrayFirstIndex(c -> c >= ${u('h', 81)}, country_cum)] AS country_drawn,
    multiIf(${u('h', 82)} < mobile_share, 'mobile', ${u('h', 82)} < mobile_share + (1 - mobile_share) * 0.85, 'desktop', 'tablet') AS device_drawn,
    1 + floor(-log(${u('h', 83)} + 0.000001) * 1.5) AS seen
  FROM (
    SELECT *, ${stochasticRound(`rows_per_day * ${PEOPLE_PER_AD_ROW} * f`, 'hd', 84)} AS n_rows
    FROM (${CAMPAIGN_DAYS})
  )
  ARRAY JOIN range(n_rows) AS j
)
-- one row per person, campaign and day (the table's key): a person drawn twice that day adds up
GROUP BY tenant_id, date, campaign_id, platform, person_id`;
