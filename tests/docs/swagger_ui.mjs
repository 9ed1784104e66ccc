// Drives Swagger UI at /docs in headless Chromium over the DevTools
// protocol (Node's WebSocket, no npm package, no downloaded browser):
// sign in as the first account, the page is authorised without pasting a
// token and "Try it out" on getMe answers that account; nothing is kept in
// browser storage; the Authorize dialog offers bearerAuth only; sign out,
// sign in as the second account, and getMe answers the second account.
//
// usage: node --experimental-websocket swagger_ui.mjs BASE_URL PASSWORD EMAIL1 EMAIL2
// CHROMIUM names the browser binary (default: chromium). Exit 0 on success.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, password, first, second] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'cinema-chromium-'));
const browser = spawn(process.env.CHROMIUM || 'chromium',
	['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
	 '--disable-dev-shm-usage', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
	 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });

function fail(message) {
	throw new Error(message);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function devtoolsPort() {
	return new Promise((resolve, reject) => {
		let err = '';
		const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err}`)), 30000);
		browser.stderr.on('data', (d) => {
			err += d;
			const m = err.match(/DevTools listening on ws:\/\/[^:]+:(\d+)\//);
			if (m) {
				clearTimeout(timer);
				resolve(m[1]);
			}
		});
		browser.on('exit', (code) => reject(new Error(`chromium exited ${code}: ${err}`)));
	});
}

async function connect(port) {
	const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
	const page = targets.find((t) => t.type === 'page') || fail('no page target');
	const ws = new WebSocket(page.webSocketDebuggerUrl);
	const pending = new Map();
	let next = 0;
	ws.onmessage = (ev) => {
		const m = JSON.parse(ev.data);
		const p = m.id && pending.get(m.id);
		if (!p)
			return;
		pending.delete(m.id);
		if (m.error)
			p.reject(new Error(JSON.stringify(m.error)));
		else
			p.resolve(m.result);
	};
	await new Promise((resolve, reject) => {
		ws.onopen = resolve;
		ws.onerror = reject;
	});
	const send = (method, params = {}) => new Promise((resolve, reject) => {
		const id = ++next;
		pending.set(id, { resolve, reject });
		ws.send(JSON.stringify({ id, method, params }));
	});
	return { ws, send };
}

async function main() {
	const { ws, send } = await connect(await devtoolsPort());
	const evaluate = async (expression) => {
		const r = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
		if (r.exceptionDetails)
			fail(`${expression}: ${JSON.stringify(r.exceptionDetails)}`);
		return r.result.value;
	};
	const waitFor = async (expression, what, ms = 30000) => {
		const end = Date.now() + ms;
		for (;;) {
			let v = null;
			try {
				v = await evaluate(expression);
			} catch (e) { /* the page is navigating */ }
			if (v)
				return v;
			if (Date.now() > end) {
				let html = '';
				try {
					html = await evaluate(`(document.querySelector('#operations-accounts-getMe') || document.body).outerHTML.slice(0, 1500)`);
				} catch (e) { /* no page */ }
				fail(`timed out waiting for ${what}; page: ${html}`);
			}
			await sleep(200);
		}
	};
	const signIn = async (email) => {
		await waitFor(`!!document.querySelector('form[action="/docs/login"]')`, 'the sign-in form');
		await evaluate(`(() => { const f = document.querySelector('form[action="/docs/login"]');
			f.email.value = ${JSON.stringify(email)}; f.password.value = ${JSON.stringify(password)};
			f.submit(); return true; })()`);
	};
	// Try it out on getMe, as a user would, and the email it answers.
	const tryGetMe = async () => {
		await waitFor(`!!document.querySelector('#operations-accounts-getMe')`, 'the getMe operation');
		await waitFor(`(() => { const op = document.querySelector('#operations-accounts-getMe');
			if (op.querySelector('.try-out__btn')) return true;
			const b = op.querySelector('button.opblock-summary-control');
			if (b.getAttribute('aria-expanded') !== 'true') b.click();
			return false; })()`, 'Try it out');
		await evaluate(`document.querySelector('#operations-accounts-getMe .try-out__btn').click(), true`);
		await waitFor(`!!document.querySelector('#operations-accounts-getMe button.execute')`, 'Execute');
		await evaluate(`document.querySelector('#operations-accounts-getMe button.execute').click(), true`);
		const body = await waitFor(`(() => { const b = document.querySelector(
			'#operations-accounts-getMe .live-responses-table .response-col_description pre');
			return b && b.textContent.includes('email') ? b.textContent : null; })()`, 'the response');
		const status = await evaluate(`document.querySelector(
			'#operations-accounts-getMe .live-responses-table tr.response .response-col_status').textContent.trim()`);
		if (status !== '200')
			fail(`getMe answered ${status}: ${body}`);
		return JSON.parse(body).email;
	};
	const checkPage = async (email) => {
		await waitFor(`!!(window.ui && window.ui.authSelectors.authorized().toJS().bearerAuth)`,
			'Swagger UI authorised');
		const schemes = await evaluate(`Object.keys(window.ui.specSelectors.specJson().toJS().components.securitySchemes).join(',')`);
		if (schemes !== 'bearerAuth')
			fail(`the Authorize dialog offers ${schemes}`);
		const got = await tryGetMe();
		if (got !== email)
			fail(`Try it out ran as ${got}, not ${email}`);
		const stored = await evaluate(`localStorage.length + sessionStorage.length`);
		if (stored !== 0)
			fail(`browser storage holds ${stored} item(s)`);
	};

	await send('Page.enable');
	await send('Page.navigate', { url: `${base}/docs` });
	await signIn(first);
	await checkPage(first);
	await evaluate(`document.querySelector('#sign-out button').click(), true`);
	await signIn(second);
	await checkPage(second);
	ws.close();
}

let status = 0;
try {
	await main();
	console.log('swagger ui: ok');
} catch (e) {
	console.error(`swagger ui: ${e.message}`);
	status = 1;
}
// Chromium's own process group (detached): the browser and its helpers.
try {
	process.kill(-browser.pid, 'SIGKILL');
} catch (e) { /* already gone */ }
if (browser.exitCode === null && browser.signalCode === null)
	await new Promise((r) => browser.on('exit', r));
try {
	rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
} catch (e) {
	console.error(`swagger ui: profile ${profile} not removed: ${e.message}`);
}
process.exit(status);
