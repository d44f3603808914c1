// duckdb.mjs - the DuckDB comparison jobs for bench/run.sh.
//
// What a user would write in DuckDB (via @duckdb/node-api, both cores) to get
// the same answers mamori computes, done the fast way DuckDB allows:
//   node duckdb.mjs flows-join  LIST  FILE...   flows x IP/CIDR threat list,
//       matches counted per (ENI, remote address). The list is turned into
//       integer ranges, overlapping ranges merged into disjoint ones, and the
//       flows joined with an ASOF join (a plain BETWEEN range join takes minutes)
//   node duckdb.mjs flows-ports FILE...         distinct destination ports per source
//   node duckdb.mjs ct   LIST  FILE...          CloudTrail Records: eventName,
//       sourceIPAddress, userIdentity.arn; sourceIPAddress joined to the list's
//       single addresses (read_json_objects + JSON paths: see the note there)
//   node duckdb.mjs dns  DOMAINS FILE...        Route 53 query_name matched to the
//       domain list, exact or any parent domain (trailing dot ignored)
// FILEs may be .gz (DuckDB decompresses by extension). Prints one summary line
// (records=, matches=) so run.sh can cross-check the tools.
import { DuckDBInstance } from '@duckdb/node-api';

const [job, ...args] = process.argv.slice(2);
if (!job || args.length < 1) {
	console.error('usage: node duckdb.mjs flows-join|flows-ports|ct|dns [LIST] FILE...');
	process.exit(2);
}

const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";
const list = (files) => '[' + files.map(q).join(',') + ']';

const FLOW_COLS = `{'version':'VARCHAR','account-id':'VARCHAR','interface-id':'VARCHAR',
	'srcaddr':'VARCHAR','dstaddr':'VARCHAR','srcport':'VARCHAR','dstport':'VARCHAR',
	'protocol':'VARCHAR','packets':'VARCHAR','bytes':'VARCHAR','start':'VARCHAR',
	'end':'VARCHAR','action':'VARCHAR','log-status':'VARCHAR'}`;
const flows = (files) =>
	`read_csv(${list(files)}, delim=' ', header=true, quote='', escape='', columns=${FLOW_COLS})`;
const ipint = (c) => `((split_part(${c},'.',1)::UBIGINT << 24) + (split_part(${c},'.',2)::UBIGINT << 16)
	+ (split_part(${c},'.',3)::UBIGINT << 8) + split_part(${c},'.',4)::UBIGINT)`;
// One column of text lines, no CSV interpretation.
const lines = (path) =>
	`read_csv(${q(path)}, header=false, delim='\\t', quote='', escape='', columns={'e':'VARCHAR'})`;

// Threat list -> disjoint integer ranges (IPv4 only).
const rangesSql = (path) => `
CREATE TEMP TABLE tl AS
WITH raw AS (SELECT trim(e) AS e FROM ${lines(path)}),
p AS (SELECT split_part(e,'/',1) AS ip,
	CASE WHEN contains(e,'/') THEN split_part(e,'/',2)::INT ELSE 32 END AS len
	FROM raw WHERE e <> '' AND NOT starts_with(e,'#') AND contains(e,'.')),
r AS (SELECT (${ipint('ip')} >> (32-len)) << (32-len) AS lo, len FROM p),
r2 AS (SELECT lo, lo + (1::UBIGINT << (32-len)) - 1 AS hi FROM r),
o AS (SELECT lo, hi, max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS ph FROM r2),
g AS (SELECT lo, hi, sum(CASE WHEN ph IS NULL OR lo > ph + 1 THEN 1 ELSE 0 END)
	OVER (ORDER BY lo, hi ROWS UNBOUNDED PRECEDING) AS grp FROM o)
SELECT min(lo) AS lo, max(hi) AS hi FROM g GROUP BY grp`;

const jobs = {
	'flows-join': ([lst, ...files]) => [
		rangesSql(lst),
		`WITH f AS (SELECT "interface-id" AS eni,
			CASE WHEN starts_with(srcaddr,'10.') THEN dstaddr ELSE srcaddr END AS remote
			FROM ${flows(files)} WHERE "log-status" = 'OK'),
		fi AS (SELECT eni, remote, ${ipint('remote')} AS n FROM f),
		m AS (SELECT fi.eni, fi.remote, coalesce(fi.n <= tl.hi, false) AS hit
			FROM fi ASOF LEFT JOIN tl ON fi.n >= tl.lo)
		SELECT count(*) AS records, count_if(hit) AS matches,
			count(DISTINCT (eni, remote)) FILTER (WHERE hit) AS pairs FROM m`,
	],
	'flows-ports': (files) => [
		`WITH s AS (SELECT srcaddr, count(DISTINCT dstport) AS ports FROM ${flows(files)}
			WHERE "log-status" = 'OK' GROUP BY srcaddr)
		SELECT sum(ports) AS records, count(*) AS matches FROM s`,
	],
	ct: ([lst, ...files]) => [
		`CREATE TEMP TABLE ips AS SELECT DISTINCT split_part(trim(e),'/',1) AS ip FROM ${lines(lst)}
			WHERE NOT contains(e,'/') OR ends_with(trim(e),'/32')`,
		// read_json(..., columns={Records: STRUCT(...)[]}) is the obvious query
		// but runs at ~15 MB/s on S3-shaped files (one 5-12 MB object each);
		// read_json_objects + JSON path extraction is the fastest form found.
		`WITH o AS (SELECT j FROM read_json_objects(${list(files)}, maximum_object_size=67108864) t(j)),
		e AS (SELECT unnest(json_extract_string(j, '$.Records[*].eventName')) AS en,
			unnest(json_extract_string(j, '$.Records[*].sourceIPAddress')) AS ip,
			unnest(json_extract_string(j, '$.Records[*].userIdentity.arn')) AS arn FROM o)
		SELECT count(*) AS records, count(ips.ip) AS matches FROM e LEFT JOIN ips ON e.ip = ips.ip`,
	],
	dns: ([dom, ...files]) => [
		`CREATE TEMP TABLE dom AS SELECT DISTINCT lower(trim(trim(e),'.')) AS d FROM ${lines(dom)}
			WHERE trim(e) <> '' AND NOT starts_with(e,'#')`,
		// Aggregate by name first (a few tens of thousands of distinct names),
		// then expand each name into itself and its parents and semi-join.
		`WITH qn AS (SELECT lower(rtrim(query_name,'.')) AS n, srcaddr
			FROM read_json(${list(files)}, format='newline_delimited',
			columns={'query_name':'VARCHAR','srcaddr':'VARCHAR'})),
		byname AS (SELECT n, count(*) AS c FROM qn GROUP BY n),
		parts AS (SELECT n, c, string_split(n,'.') AS l FROM byname),
		sfx AS (SELECT n, c, array_to_string(l[i:], '.') AS s
			FROM (SELECT n, c, l, unnest(range(1, len(l)+1)) AS i FROM parts)),
		hit AS (SELECT DISTINCT n, c FROM sfx SEMI JOIN dom ON sfx.s = dom.d)
		SELECT (SELECT sum(c) FROM byname) AS records, coalesce(sum(c),0) AS matches FROM hit`,
	],
};

if (!jobs[job]) {
	console.error(`duckdb.mjs: unknown job ${job}`);
	process.exit(2);
}
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const stmts = jobs[job](args);
let rows;
for (const s of stmts) rows = (await con.runAndReadAll(s)).getRowObjects();
const r = rows[0];
console.log(`records=${r.records} matches=${r.matches}` + (r.pairs !== undefined ? ` pairs=${r.pairs}` : ''));
