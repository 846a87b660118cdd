/**
 * Geography below country and readable ad / ad-group names for the demo's ad_performance rows.
 * Both are SQL expressions over columns the ad_performance expansion already has (country, the
 * row hash, campaign number, ad group and ad slot), so adding them changes no other column.
 */

/** Regions and cities per demo country; a city listed twice is drawn twice as often. */
const GEO: Readonly<Record<string, readonly (readonly [region: string, city: string])[]>> = {
  US: [
    ['California', 'Los Angeles'],
    ['California', 'San Francisco'],
    ['New York', 'New York'],
    ['New York', 'New York'],
    ['Texas', 'Austin'],
    ['Texas', 'Houston'],
    ['Illinois', 'Chicago'],
    ['Washington', 'Seattle'],
    ['Florida', 'Miami'],
  ],
  CA: [
    ['Ontario', 'Toronto'],
    ['Ontario', 'Toronto'],
    ['Quebec', 'Montreal'],
    ['British Columbia', 'Vancouver'],
  ],
  GB: [
    ['England', 'London'],
    ['England', 'London'],
    ['England', 'Manchester'],
    ['Scotland', 'Edinburgh'],
  ],
  DE: [
    ['Berlin', 'Berlin'],
    ['Bavaria', 'Munich'],
    ['Hamburg', 'Hamburg'],
  ],
  FR: [
    ['Île-de-France', 'Paris'],
    ['Île-de-France', 'Paris'],
    ['Auvergne-Rhône-Alpes', 'Lyon'],
  ],
  AU: [
    ['New South Wales', 'Sydney'],
    ['Victoria', 'Melbourne'],
  ],
  NL: [
    ['North Holland', 'Amsterdam'],
    ['South Holland', 'Rotterdam'],
  ],
  SE: [
    ['Stockholm County', 'Stockholm'],
    ['Västra Götaland', 'Gothenburg'],
  ],
  IN: [
    ['Karnataka', 'Bengaluru'],
    ['Maharashtra', 'Mumbai'],
  ],
  ES: [
    ['Community of Madrid', 'Madrid'],
    ['Catalonia', 'Barcelona'],
    ['Andalusia', 'Seville'],
  ],
  IT: [
    ['Lazio', 'Rome'],
    ['Lombardy', 'Milan'],
  ],
  MX: [
    ['Mexico City', 'Mexico City'],
    ['Quintana Roo', 'Cancún'],
  ],
  BR: [
    ['São Paulo', 'São Paulo'],
    ['Rio de Janeiro', 'Rio de Janeiro'],
  ],
};

const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`;

/** `region` and `city` columns for a row of `countryExpr`, drawn by `hashExpr` (a UInt64). */
export function geoSql(countryExpr: string, hashExpr: string): string {
  const tuples = Object.entries(GEO).flatMap(([c, places]) => places.map(([r, city]) => `(${quote(c)}, ${quote(r)}, ${quote(city)})`));
  return `arrayFilter(x -> x.1 = ${countryExpr}, [${tuples.join(', ')}]) AS geo_options,
    geo_options[1 + ${hashExpr} % greatest(length(geo_options), 1)] AS geo_place,
    geo_place.2 AS region, geo_place.3 AS city`;
}

/** `ad_group_name` and `ad_name` from the campaign number, ad group (ag) and ad slot (ad_n). */
export const AD_NAMES_SQL = `concat(multiIf(type IN ('search', 'shopping', 'performance_max'),
      ['Brand terms', 'Generic terms', 'Competitor terms', 'Long tail', 'Product feed', 'Dynamic search'],
      ['Prospecting - broad', 'Lookalike 1%', 'Interests', 'Remarketing 30d', 'Customer list', 'Contextual'])[1 + (campaign_num + ag) % 6],
      ' #', toString(ag)) AS ad_group_name,
    concat(multiIf(type = 'search', ['RSA - benefits', 'RSA - offer', 'RSA - brand'],
                   type = 'video', ['Video 15s', 'Video 30s', 'Bumper 6s'],
                   ['Static - hero', 'Carousel - bestsellers', 'Short video - UGC'])[1 + (ag * 7 + ad_n) % 3],
      ' v', toString(ad_n)) AS ad_name`;
