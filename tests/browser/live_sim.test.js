// The dashboard in a real browser against the whole bot trading live on the
// local simulator: `arbitrade sim --scenario tests/data/sim/demo.json`, then
// `arbitrade run` with the live venue and the scenario's test account (every
// URL on 127.0.0.1), a temporary DuckDB and the login on (APP_ENV=test).
// Log in (a wrong password first), see an opportunity and an executed cycle
// with its legs appear, pause trading and see it in the audit log, log out.
// A screenshot of every page goes to ARB_SHOT_DIR (live-*.png).
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
const ROOT = path.resolve(__dirname, '..', '..');
const SCENARIO = path.join(ROOT, 'tests', 'data', 'sim', 'demo.json');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'live-sim-browser-password';
const WAIT_MS = 30000; // bound on every "until it appears" wait

// A child process whose output is kept (its tail only) for the failure report.
class Child {
	constructor(name, args, env, cwd) {
		this.name = name;
		this.out = '';
		this.exitCode = null;
		this.proc = spawn(BIN, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
		this.exited = new Promise((resolve) => {
			this.proc.once('exit', (code, sig) => {
				this.exitCode = code === null ? `signal ${sig}` : code;
				resolve(this.exitCode);
			});
		});
		const keep = (d) => {
			this.out += d;
			if (this.out.length > 1 << 20) this.out = this.out.slice(-(1 << 19));
		};
		this.proc.stdout.on('data', keep);
		this.proc.stderr.on('data', keep);
	}

	running() { return this.exitCode === null; }

	// SIGTERM, then the exit status (SIGKILL if it does not stop in ms).
	async stop(ms) {
		if (!this.running()) return this.exitCode;
		this.proc.kill('SIGTERM');
		const t = setTimeout(() => { if (this.running()) this.proc.kill('SIGKILL'); }, ms);
		const code = await this.exited;
		clearTimeout(t);
		return code;
	}

	tail(lines) { return this.out.split('\n').slice(-lines).join('\n'); }
}

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

// The children's environment: none of ours (ARB_SHOT_DIR would be an unknown
// project key), only what they need, and the sanitizers' options.
function baseEnv(home) {
	const env = { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
	for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'])
		if (process.env[k]) env[k] = process.env[k];
	return env;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value, at most ms; the children must
// stay up meanwhile. Throws naming what never happened.
async function until(what, ms, fn, children) {
	const end = Date.now() + ms;
	for (;;) {
		for (const c of children || [])
			if (!c.running()) throw new Error(`${c.name} exited (${c.exitCode}) while waiting for ${what}`);
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
		await sleep(200);
	}
}

async function getJson(url) {
	try {
		const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
		return r.status === 200 ? await r.json() : null;
	} catch (e) {
		return null; // not listening yet
	}
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(SHOTS, `live-${name}.png`), fullPage: true });
}

// Navigates to path and waits until the page's text (selector) matches re,
// reloading between tries: the tables refresh server-side (htmx or reload).
async function pageUntil(page, base, p, selector, re, what, children) {
	return until(what, WAIT_MS, async () => {
		await page.goto(`${base}${p}`);
		const loc = page.locator(selector);
		if ((await loc.count()) === 0) return false;
		const t = await loc.first().textContent();
		return re.test(t) ? t : false;
	}, children);
}

// Like until(), but opens an arbitrage window on the simulator whenever
// firstMs (then 4 s) passed without fn succeeding. The count of windows
// injected goes to counter.n.
async function untilWindows(what, control, firstMs, fn, children, counter) {
	let next = Date.now() + firstMs;
	return until(what, WAIT_MS, async () => {
		const v = await fn();
		if (v || Date.now() < next) return v;
		const r = await fetch(`${control}/window?cycle=USD,BTC,ETH&bps=80&ms=3000`,
			{ method: 'POST', signal: AbortSignal.timeout(5000) });
		if (r.status !== 200) throw new Error(`POST /control/window: ${r.status} ${await r.text()}`);
		counter.n++;
		next = Date.now() + 4000;
		return null;
	}, children);
}

async function trading(base) {
	const hj = await getJson(`${base}/health`);
	return hj && hj.trading;
}

let sim = null, bot = null; // stopped on every way out

async function main() {
	assert.ok(BIN && fs.existsSync(BIN), `ARBITRADE_BIN not found: ${BIN}`);
	fs.mkdirSync(SHOTS, { recursive: true });
	const scen = JSON.parse(fs.readFileSync(SCENARIO, 'utf8'));
	const acct = scen.accounts[0];
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arb-live-browser-'));
	let browser = null, failed = false, hash = '', base = null;
	try {
		const h = spawnSync(BIN, ['secrets', 'hash-password'],
			{ input: PASSWORD, cwd: dir, env: baseEnv(dir), encoding: 'utf8', timeout: 30000 });
		if (h.status !== 0) throw new Error(`secrets hash-password: status ${h.status}\n${h.stderr}`);
		hash = h.stdout.trim();
		assert.match(hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);

		// The simulator: one JSON ready line on stdout.
		sim = new Child('arbitrade sim', ['sim', '--scenario', SCENARIO, '--host', '127.0.0.1'],
			{ ...baseEnv(dir), LOG_LEVEL: 'warn' }, dir);
		const ready = await until('the simulator\'s ready line', WAIT_MS, () => {
			const line = sim.out.split('\n').find((l) => l.includes('"event":"ready"'));
			if (!line || !sim.out.includes(line + '\n')) return null;
			return JSON.parse(line);
		}, [sim]);
		for (const k of ['ws_url', 'ws_auth_url', 'rest_url', 'control_url'])
			assert.match(ready[k] || '', /^(ws|http):\/\/127\.0\.0\.1:\d+(\/|$)/, `ready line ${k}`);

		// The bot, as scripts/demo.sh runs it, but with the login on.
		const port = await freePort();
		base = `http://127.0.0.1:${port}`;
		bot = new Child('arbitrade run', ['run'], {
			...baseEnv(dir),
			APP_ENV: 'test', APP_HOST: '127.0.0.1', APP_PORT: String(port),
			DASHBOARD_USER: 'admin', DASHBOARD_PASSWORD_HASH: hash,
			ARB_SHARE_DIR: ROOT, LOG_JSON: 'false', LOG_LEVEL: 'info',
			DUCKDB_PATH: path.join(dir, 'live.duckdb'), RISK_KILL_FILE: path.join(dir, 'KILL'),
			STORE_FLUSH_MS: '50',
			KRAKEN_WS_URL: ready.ws_url, KRAKEN_WS_AUTH_URL: ready.ws_auth_url,
			KRAKEN_REST_URL: ready.rest_url,
			KRAKEN_WS_RECONNECT_MIN_MS: '500', KRAKEN_WS_RECONNECT_MAX_MS: '1000',
			KRAKEN_API_KEY: acct.api_key, KRAKEN_API_SECRET: acct.api_secret,
			KRAKEN_API_KEY_PERMISSIONS: 'query_funds,query_open,query_closed,trade,cancel,websocket',
			KRAKEN_REST_TIER: 'pro', TRADING_MODE: 'live', BOOK_SYMBOLS: 'all',
			ARB_HOME_ASSETS: 'USD,EUR', ARB_MIN_PROFIT_BPS: '1', RISK_MAX_CYCLES_PER_MIN: '30',
			RISK_MAX_CONSECUTIVE_FAILURES: '10',
		}, dir);
		await until('/health trading.ready', WAIT_MS, async () => {
			const hj = await getJson(`${base}/health`);
			return hj && hj.trading && hj.trading.ready;
		}, [sim, bot]);

		browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
			args: ['--no-sandbox', '--disable-gpu'] });
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		page.setDefaultTimeout(15000);

		// No session: the dashboard sends us to the login form.
		await page.goto(`${base}/`);
		assert.strictEqual(new URL(page.url()).pathname, '/login');
		await page.fill('#user', 'admin');
		await page.fill('#password', 'not-the-password');
		await page.click('#btn-login');
		await page.waitForSelector('text=Wrong user name or password.');
		await shot(page, '01-login-failed');
		await page.fill('#user', 'admin');
		await page.fill('#password', PASSWORD);
		await page.click('#btn-login');
		await page.waitForURL(`${base}/`);
		assert.strictEqual(await page.textContent('#ov-mode'), 'live');
		assert.strictEqual(await page.textContent('#ov-state'), 'running');

		// A cycle: the scenario's own windows (from 5 s after the sim started)
		// or, when none got executed in a few seconds, one injected through
		// the control endpoint (then again every few seconds, up to WAIT_MS).
		const injected = { n: 0 };
		const health = await untilWindows('an executed cycle in /health', ready.control_url, 4000,
			async () => {
				const t = await trading(base);
				return t && t.cycles_executed > 0 ? t : null;
			}, [sim, bot], injected);
		console.log(`cycles: ${JSON.stringify(health)} (${injected.n} windows injected)`);

		// Overview: counted today.
		await pageUntil(page, base, '/', '#ov-trades', /^[1-9]\d*$/, 'overview counting a traded cycle', [sim, bot]);
		assert.match(await page.textContent('#ov-opps'), /^[1-9]\d*$/);
		await shot(page, '02-overview');

		// Opportunities: the detector's rows, then only the executed ones
		// through the htmx verdict filter (the table keeps the newest 200, so
		// a busy window could push the executed ones off the unfiltered page).
		await page.click('nav >> text=Opportunities');
		await page.waitForURL(`${base}/opportunities`);
		const cyc = /[A-Z]+>[A-Z]+>[A-Z]+>[A-Z]+/;
		await until('an opportunity on /opportunities', WAIT_MS, async () => {
			const t = await page.textContent('#opp-table'); // htmx refreshes it every 3 s
			return cyc.test(t);
		}, [sim, bot]);
		await shot(page, '03-opportunities');
		await page.selectOption('#f-verdict', 'executed');
		await until('executed opportunities only, after the verdict filter', WAIT_MS, () =>
			page.evaluate(() => {
				const rows = [...document.querySelectorAll('#opp-table tbody tr')];
				return rows.length > 0 && rows.every((r) => r.classList.contains('row-executed'));
			}), [sim, bot]);
		assert.match(await page.textContent('#opp-table'), cyc);
		await shot(page, '03-opportunities-executed');

		// Trades: an executed cycle with its three filled legs.
		const trades = await pageUntil(page, base, '/trades', '#trades-table', /3\/3 legs filled/,
			'a cycle with 3/3 legs filled on /trades', [sim, bot]);
		assert.ok(await page.locator('#trades-table tr.leg-row').count() >= 3);
		assert.match(trades, /live/);
		assert.match(trades, /filled/);
		await shot(page, '04-trades');

		// Portfolio: the live balances (the account's USD at least).
		await pageUntil(page, base, '/portfolio', 'main', /USD/, 'balances on /portfolio', [sim, bot]);
		await shot(page, '05-portfolio');

		// Latency: recorded stages of the live cycle.
		await pageUntil(page, base, '/latency', '#latency-table', /submit/, 'submit latency on /latency', [sim, bot]);
		await shot(page, '06-latency');

		// Pause trading from the overview's controls.
		await page.goto(`${base}/`);
		await page.click('#btn-pause');
		await page.waitForURL(`${base}/`);
		assert.strictEqual(await page.textContent('#ov-state'), 'paused');
		await page.waitForSelector('#btn-resume');
		await until('/health trading.paused', WAIT_MS, async () => {
			const t = await trading(base);
			return t && t.paused === true;
		}, [sim, bot]);
		await shot(page, '07-paused');

		// Paused: the next opportunities are refused by the risk gate, and
		// from the first refusal on nothing more is accepted (a cycle accepted
		// before the pause may still finish; it was counted then).
		await page.goto(`${base}/opportunities?verdict=rejected`);
		await untilWindows('an opportunity rejected as paused', ready.control_url, 0, async () => {
			const t = await page.textContent('#opp-table'); // htmx refreshes it every 3 s
			return /paused by operator/.test(t);
		}, [sim, bot], injected);
		const paused = await trading(base);
		assert.ok(paused, '/health did not answer');
		const acceptedPaused = paused.accepted;
		await shot(page, '07-paused-rejected');

		// The audit log names the operator (the writer flushes within ~50 ms).
		const audit = await pageUntil(page, base, '/audit', '#audit-table', /operator:admin\s*pause/,
			'the pause in the audit log', [sim, bot]);
		await shot(page, '08-audit');
		// The cycles' events push the logins to older pages: follow the pager.
		let older = audit, pages = 1;
		while (!(/operator:admin\s*login/.test(older) && /anonymous\s*login_failed/.test(older))) {
			const next = page.locator('nav.pager a[rel=next]');
			assert.ok((await next.count()) === 1 && pages < 100,
				`no login events in ${pages} audit pages:\n${older.slice(-2000)}`);
			await next.click();
			pages++;
			await page.waitForURL(`${base}/audit?page=${pages - 1}`);
			assert.match(await page.textContent('nav.pager'), new RegExp(`page ${pages} of`));
			older += await page.textContent('#audit-table');
		}
		if (pages > 1) await shot(page, '08-audit-older');

		// Log out: back to the form, and the pages are closed again.
		await page.click('#btn-logout');
		await page.waitForURL(`${base}/login`);
		await page.goto(`${base}/trades`);
		assert.strictEqual(new URL(page.url()).pathname, '/login');
		await shot(page, '09-login');
		const after = await trading(base);
		assert.ok(after, '/health did not answer');
		assert.strictEqual(after.accepted, acceptedPaused,
			`opportunities accepted while paused: ${JSON.stringify(after)}`);
		await browser.close();
		browser = null;

		const bc = await bot.stop(30000);
		assert.strictEqual(bc, 0, `arbitrade run exited with ${bc}`);
		const sc = await sim.stop(10000);
		assert.strictEqual(sc, 0, `arbitrade sim exited with ${sc}`);
		assert.ok(!bot.out.includes(hash.split('$')[5]), 'the password hash reached the log');
		assert.ok(!bot.out.includes(acct.api_secret), 'the API secret reached the log');
		console.log(`ok: live dashboard browser test against the simulator; screenshots in ${SHOTS}`);
	} catch (e) {
		failed = true;
		console.error(`FAIL: ${e.stack || e}`);
	} finally {
		if (browser) await browser.close().catch(() => {});
		if (failed && base && bot && bot.running())
			console.error(`--- /health ---\n${JSON.stringify(await getJson(`${base}/health`))}`);
		const bc = bot ? await bot.stop(30000) : null;
		const sc = sim ? await sim.stop(10000) : null;
		if (failed) {
			if (bot) console.error(`--- arbitrade run (exit ${bc}), last lines ---\n${bot.tail(60)}`);
			if (sim) console.error(`--- arbitrade sim (exit ${sc}), last lines ---\n${sim.tail(30)}`);
			process.exitCode = 1;
		}
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

const timer = setTimeout(() => {
	console.error('FAIL: timed out after 120 s');
	for (const c of [bot, sim])
		if (c) {
			console.error(`--- ${c.name}, last lines ---\n${c.tail(40)}`);
			if (c.running()) c.proc.kill('SIGKILL');
		}
	process.exit(1);
}, 120000);
main().finally(() => clearTimeout(timer));
