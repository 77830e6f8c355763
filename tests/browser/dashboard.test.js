// The dashboard in a real browser: `arbitrade run --no-market-data` on a
// DuckDB file pre-seeded (through DuckDB's own C library) with opportunities,
// an executed cycle and portfolio snapshots; log in (a wrong password first),
// see the opportunity and the trade, filter, pause trading, read the audit
// log, log out. A screenshot of every page goes to ARB_SHOT_DIR.
// Environment (set by CMake): ARBITRADE_BIN, NODE_PATH, ARB_SHOT_DIR.
'use strict';

const { chromium } = require('playwright-core');
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const assert = require('assert');

const BIN = process.env.ARBITRADE_BIN;
const SHOTS = process.env.ARB_SHOT_DIR || path.join(os.tmpdir(), 'arb-shots');
const TP = path.resolve(process.env.NODE_PATH || '', '..', '..');
const LIBDUCKDB = path.join(TP, 'duckdb', 'libduckdb.so');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'browser-test-password';

const SEED_PY = `
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
db = ctypes.c_void_p(); con = ctypes.c_void_p()
if lib.duckdb_open(sys.argv[2].encode(), ctypes.byref(db)) != 0: sys.exit("cannot open " + sys.argv[2])
if lib.duckdb_connect(db, ctypes.byref(con)) != 0: sys.exit("cannot connect")
lib.duckdb_result_error.restype = ctypes.c_char_p
res = ctypes.create_string_buffer(256)
if lib.duckdb_query(con, sys.stdin.read().encode(), res) != 0:
    sys.exit("seed failed: %s" % lib.duckdb_result_error(res).decode())
lib.duckdb_destroy_result(res)
lib.duckdb_disconnect(ctypes.byref(con)); lib.duckdb_close(ctypes.byref(db))
`;

const SEED_SQL = `
INSERT INTO opportunities VALUES
 (now() - INTERVAL 2 MINUTE, 9001, 'paper', 'USD>BTC>ETH>USD', 'USD', 3,
  [{'symbol':'BTC/USD','side':'buy','price':60000.1,'qty':0.01,'rate':0.0000166,'book_age_ms':12},
   {'symbol':'ETH/BTC','side':'buy','price':0.05,'qty':0.2,'rate':19.9,'book_age_ms':8},
   {'symbol':'ETH/USD','side':'sell','price':3010.5,'qty':0.2,'rate':3005.0,'book_age_ms':5}],
  600.001, 1.25, 0.48, 20.8, 1.00208, 12, 41000, 'detected', NULL),
 (now() - INTERVAL 1 MINUTE, 9001, 'paper', 'USD>BTC>ETH>USD', 'USD', 3,
  [{'symbol':'BTC/USD','side':'buy','price':60000.1,'qty':0.01,'rate':0.0000166,'book_age_ms':12}],
  600.001, 1.25, 0.48, 20.8, 1.00208, 12, 41000, 'executed', NULL),
 (now() - INTERVAL 30 SECOND, 9002, 'paper', 'USD>ETH>BTC>USD', 'USD', 3,
  [{'symbol':'ETH/USD','side':'buy','price':3000,'qty':0.1,'rate':0.00033,'book_age_ms':3}],
  300, -0.2, 0.3, -6.6, 0.99934, 3, 25000, 'rejected', 'below ARB_MIN_PROFIT_BPS');
INSERT INTO trades VALUES
 (now() - INTERVAL 1 MINUTE, 9001, 'paper', 'USD>BTC>ETH>USD', 0, 'arb-9001-0', 'P-1', 'BTC/USD', 'buy', 'limit', 'ioc', 60000.1, 0.01, 0.01, 60000.1, 1.56, 'USD', 'filled', NULL, 1.25, 1.1, 150000, 900000, 1200000),
 (now() - INTERVAL 1 MINUTE, 9001, 'paper', 'USD>BTC>ETH>USD', 1, 'arb-9001-1', 'P-2', 'ETH/BTC', 'buy', 'limit', 'ioc', 0.05, 0.2, 0.2, 0.05, 0.00026, 'BTC', 'filled', NULL, 1.25, 1.1, 120000, 800000, 1100000),
 (now() - INTERVAL 1 MINUTE, 9001, 'paper', 'USD>BTC>ETH>USD', 2, 'arb-9001-2', 'P-3', 'ETH/USD', 'sell', 'limit', 'ioc', 3010.5, 0.2, 0.2, 3010.5, 1.57, 'USD', 'filled', NULL, 1.25, 1.1, 110000, 700000, 1000000);
INSERT INTO portfolio_snapshots
 SELECT now() - (INTERVAL 1 MINUTE) * i, 'paper', 'USD', 'USD', 1000 + i * 0.5, 1000 + i * 0.5 FROM range(0, 30) t(i);
INSERT INTO portfolio_snapshots
 SELECT now() - (INTERVAL 1 MINUTE) * i, 'paper', 'BTC', 'USD', 0.01, 600 - i FROM range(0, 30) t(i);
`;

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// The child's environment: none of ours (ARB_SHOT_DIR would be an unknown
// project key), only what the bot needs, and the sanitizers' options.
function childEnv() {
	const env = { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp', LANG: 'C.UTF-8' };
	for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'])
		if (process.env[k]) env[k] = process.env[k];
	return env;
}

function run(args, input, cwd) {
	const r = spawnSync(BIN, args, { input, cwd, env: childEnv(), encoding: 'utf8', timeout: 30000 });
	if (r.status !== 0)
		throw new Error(`arbitrade ${args.join(' ')}: status ${r.status}\n${r.stdout}\n${r.stderr}`);
	return r.stdout;
}

async function waitHealthy(port, proc, ms) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (proc.exitCode !== null) throw new Error(`arbitrade run exited with ${proc.exitCode}`);
		try {
			const r = await fetch(`http://127.0.0.1:${port}/health`);
			if (r.status === 200) return;
		} catch (e) { /* not listening yet */ }
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error('the dashboard did not come up');
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

let proc = null; // the bot, killed on any way out

async function main() {
	assert.ok(BIN && fs.existsSync(BIN), `ARBITRADE_BIN not found: ${BIN}`);
	assert.ok(fs.existsSync(LIBDUCKDB), `no ${LIBDUCKDB}`);
	fs.mkdirSync(SHOTS, { recursive: true });
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arb-browser-'));
	const port = await freePort();
	let browser = null, log = '';
	try {
		const hash = run(['secrets', 'hash-password'], PASSWORD, dir).trim();
		assert.match(hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
		const db = path.join(dir, 'db', 'arb.duckdb');
		const envFile = path.join(dir, 'test.env');
		fs.writeFileSync(envFile, [
			'APP_ENV=test', 'APP_HOST=127.0.0.1', `APP_PORT=${port}`, `DUCKDB_PATH=${db}`,
			'STORE_FLUSH_MS=50', 'DASHBOARD_USER=admin', `DASHBOARD_PASSWORD_HASH=${hash}`,
			'TRADING_MODE=paper', 'LOG_LEVEL=info', '',
		].join('\n'), { mode: 0o600 });
		run(['migrate', '--env-file', envFile], '', dir);
		const seed = spawnSync('python3', ['-c', SEED_PY, LIBDUCKDB, db],
			{ input: SEED_SQL, encoding: 'utf8', timeout: 30000 });
		if (seed.status !== 0) throw new Error(`seeding failed: ${seed.stderr}`);

		proc = spawn(BIN, ['run', '--no-market-data', '--env-file', envFile],
			{ cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
		proc.stdout.on('data', (d) => { log += d; });
		proc.stderr.on('data', (d) => { log += d; });
		await waitHealthy(port, proc, 20000);

		browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
			args: ['--no-sandbox', '--disable-gpu'] });
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		page.setDefaultTimeout(10000);
		const base = `http://127.0.0.1:${port}`;

		// No session: the dashboard sends us to the login form.
		await page.goto(`${base}/`);
		assert.strictEqual(new URL(page.url()).pathname, '/login');
		await shot(page, '01-login');
		await page.fill('#user', 'admin');
		await page.fill('#password', 'not-the-password');
		await page.click('#btn-login');
		await page.waitForSelector('text=Wrong user name or password.');
		await shot(page, '02-login-failed');
		await page.fill('#user', 'admin');
		await page.fill('#password', PASSWORD);
		await page.click('#btn-login');
		await page.waitForURL(`${base}/`);

		// Overview: today's opportunities and the traded cycle.
		assert.strictEqual(await page.textContent('#ov-opps'), '2');
		assert.strictEqual(await page.textContent('#ov-trades'), '1');
		assert.match(await page.textContent('#ov-pnl'), /1\.1 USD/);
		assert.strictEqual(await page.textContent('#ov-mode'), 'paper');
		assert.strictEqual(await page.textContent('#ov-state'), 'running');
		await shot(page, '03-overview');

		// Opportunities: both, then only the rejected one through the htmx filter.
		await page.click('nav >> text=Opportunities');
		await page.waitForSelector('#opp-table >> text=USD>BTC>ETH>USD');
		assert.match(await page.textContent('#opp-table'), /executed/);
		await shot(page, '04-opportunities');
		await page.selectOption('#f-verdict', 'rejected');
		await page.waitForFunction(() => {
			const t = document.querySelector('#opp-table');
			return t && !t.textContent.includes('USD>BTC>ETH>USD') &&
				t.textContent.includes('below ARB_MIN_PROFIT_BPS');
		});
		await shot(page, '05-opportunities-rejected');

		// Trades: the cycle with its three legs.
		await page.click('nav >> text=Trades');
		await page.waitForSelector('#trades-table >> text=3/3 legs filled');
		assert.strictEqual(await page.locator('#trades-table tr.leg-row').count(), 3);
		await shot(page, '06-trades');

		// Portfolio and latency: server-side SVG charts.
		await page.click('nav >> text=Portfolio');
		await page.waitForSelector('svg.chart polyline');
		await shot(page, '07-portfolio');
		await page.click('nav >> text=Latency');
		await page.waitForSelector('#latency-table >> text=submit');
		assert.ok(await page.locator('svg.chart rect.bar').count() > 0);
		await shot(page, '08-latency');

		// Pause trading from the overview.
		await page.click('nav >> text=Overview');
		await page.click('#btn-pause');
		await page.waitForURL(`${base}/`);
		assert.strictEqual(await page.textContent('#ov-state'), 'paused');
		await page.waitForSelector('#btn-resume');
		await shot(page, '09-paused');

		// The audit log names the operator (the writer flushes within ~50 ms).
		let audit = '';
		for (let i = 0; i < 50 && !/operator:admin\s*pause/.test(audit); i++) {
			await page.goto(`${base}/audit`);
			audit = await page.textContent('#audit-table');
			if (!/operator:admin\s*pause/.test(audit)) await page.waitForTimeout(100);
		}
		assert.match(audit, /operator:admin\s*pause/);
		assert.match(audit, /operator:admin\s*login/);
		assert.match(audit, /anonymous\s*login_failed/);
		await shot(page, '10-audit');

		// Log out: back to the form, and the pages are closed again.
		await page.click('#btn-logout');
		await page.waitForURL(`${base}/login`);
		await page.goto(`${base}/trades`);
		assert.strictEqual(new URL(page.url()).pathname, '/login');
		await browser.close();
		browser = null;

		proc.kill('SIGTERM');
		const code = await new Promise((r) => proc.once('exit', (c) => r(c)));
		proc = null;
		assert.strictEqual(code, 0, `arbitrade run exited with ${code}`);
		assert.ok(!log.includes(hash.split('$')[5]), 'the password hash reached the log');
		console.log(`ok: dashboard browser test; screenshots in ${SHOTS}`);
	} catch (e) {
		console.error(`FAIL: ${e.stack || e}\n--- arbitrade log ---\n${log}`);
		process.exitCode = 1;
	} finally {
		if (browser) await browser.close().catch(() => {});
		if (proc && proc.exitCode === null) proc.kill('SIGKILL');
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

const timer = setTimeout(() => {
	console.error('FAIL: timed out after 90 s');
	if (proc && proc.exitCode === null) proc.kill('SIGKILL');
	process.exit(1);
}, 90000);
main().finally(() => clearTimeout(timer));
