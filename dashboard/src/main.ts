/**
 * The dashboard's entry: sign-in with a pasted token (kept in sessionStorage,
 * checked against /v1/me), then a hash router over the pages. The API is this
 * page's origin unless config.json (beside index.html on the static site)
 * names it.
 */
import { z } from 'zod';
import { ApiError, createApi } from './api.js';
import { PAGES } from './pages.js';
import { paragraph } from './view.js';

const SESSION = 'goldline.dashboard';
const Session = z.object({ token: z.string().min(1), program: z.string().min(1) });
const Config = z.object({ apiBaseUrl: z.string() });

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function apiBase(): Promise<string> {
  const res = await fetch('./config.json').catch(() => null);
  if (!res?.ok) return '';
  const c = Config.safeParse(await res.json().catch(() => null));
  return c.success ? c.data.apiBaseUrl.replace(/\/$/, '') : '';
}

function session(): z.infer<typeof Session> | null {
  const raw = sessionStorage.getItem(SESSION);
  const s = raw ? Session.safeParse(JSON.parse(raw)) : null;
  return s?.success ? s.data : null;
}

async function show(base: string): Promise<void> {
  const s = session();
  const form = $<HTMLFormElement>('sign-in');
  const nav = $('nav');
  const page = $('page');
  if (!s) {
    form.hidden = false;
    nav.hidden = true;
    page.replaceChildren();
    $('who').textContent = '';
    return;
  }
  form.hidden = true;
  nav.hidden = false;
  const [path = 'scorecards', qs = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const name = path in PAGES ? path : 'scorecards';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const api = createApi(base, s.token, s.program);
  const out = document.createElement('div');
  page.setAttribute('aria-busy', 'true');
  try {
    const me = await api.me();
    $('who').textContent = `Signed in as ${me.username} (${me.roles.join(', ')}) · program ${s.program}`;
    await PAGES[name]?.(api, out, new URLSearchParams(qs));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      sessionStorage.removeItem(SESSION);
      $('sign-in-error').textContent = `The token was refused (${e.message}). Sign in again.`;
      return show(base);
    }
    out.append(paragraph(`Could not load this page: ${(e as Error).message}`, 'error'));
  }
  page.replaceChildren(out);
  page.removeAttribute('aria-busy');
  document.title = `${name[0]?.toUpperCase()}${name.slice(1)} · Goldline QA dashboard`;
}

async function start(): Promise<void> {
  const base = await apiBase();
  $<HTMLFormElement>('sign-in').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $<HTMLTextAreaElement>('token').value.trim();
    const program = $<HTMLInputElement>('program').value.trim();
    sessionStorage.setItem(SESSION, JSON.stringify({ token, program }));
    $('sign-in-error').textContent = '';
    if (location.hash.replace(/^#\/?/, '') === '') location.hash = '#/scorecards';
    else void show(base);
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(SESSION);
    void show(base);
  });
  window.addEventListener('hashchange', () => {
    void show(base).then(() => $('main').focus());
  });
  await show(base);
}

void start();
