// The interface in English, French and Spanish. Every visible word comes from here; country names come
// from the browser (Intl.DisplayNames) so all 249 read naturally in either language.
// Numbers, plurals and lists follow the language through Intl. Plurals: a key may have `_one` and `_other` forms, chosen with Intl.PluralRules from `count`.

import { en } from './lang/en.js';
import { fr } from './lang/fr.js';
import { es } from './lang/es.js';

const dictionaries = { en, fr, es };
const LANG_KEY = 'icat.lang';
const listeners = new Set();

function initial() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && dictionaries[saved]) return saved;
  const browser = (navigator.language || 'en').slice(0, 2);
  return dictionaries[browser] ? browser : 'en';
}

let current = initial();
let regions = new Intl.DisplayNames([current], { type: 'region' });
let tongues = new Intl.DisplayNames([current], { type: 'language' });
let numbers = new Intl.NumberFormat(current);

export const lang = () => current;
export const languages = Object.keys(dictionaries);

export function setLang(next) {
  if (!dictionaries[next] || next === current) return;
  current = next;
  regions = new Intl.DisplayNames([current], { type: 'region' });
  tongues = new Intl.DisplayNames([current], { type: 'language' });
  numbers = new Intl.NumberFormat(current);
  localStorage.setItem(LANG_KEY, next);
  for (const fn of listeners) fn(next);
}

/** Called whenever the language changes (the shell redraws). */
export function onLanguage(fn) { listeners.add(fn); }

/**
 * The text for `key` with `{name}` placeholders filled from `vars` (numbers written the language's
 * way: 12,345 / 12 345 / 12.345). Falls back to English, then to `fallback` (the key itself unless
 * given).
 */
export function t(key, vars = {}, fallback = key) {
  const dict = dictionaries[current];
  let text;
  if (vars.count !== undefined) {
    const form = new Intl.PluralRules(current).select(Number(vars.count));
    text = dict[`${key}_${form}`] ?? dict[`${key}_other`] ?? en[`${key}_${form}`] ?? en[`${key}_other`];
  }
  text = text ?? dict[key] ?? en[key] ?? dict[`${key}_other`] ?? en[`${key}_other`];
  if (text === undefined) return fallback;
  return text.replace(/\{(\w+)\}/g, (m, name) => (vars[name] === undefined ? m : fmtNumber(vars[name])));
}

/** A number written the interface language's way (anything else as it is). */
export const fmtNumber = (x) => (typeof x === 'number' ? numbers.format(x) : String(x));

/** A language's name (ISO 639-1 code) in the interface language: "French", "français", "francés". */
export function languageName(code) {
  try {
    return tongues.of(code) || code;
  } catch {
    return code;
  }
}

/** A list in the interface language: "Nigeria and Ghana", "Nigeria et Ghana", "Nigeria y Ghana". */
export const fmtList = (items) => new Intl.ListFormat(current, { type: 'conjunction' }).format(items);

/** A country's name in the interface language. */
export function countryName(code) {
  try {
    return regions.of(code) || code;
  } catch {
    return code;
  }
}

/** Translates the static parts of index.html (`data-i18n`, `data-i18n-aria-label`). */
export function translatePage() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
}
