// Notices: the inbox (another agency's activity matches one of yours; a pair of yours was reviewed;
// a reminder from the secretariat), each user's e-mail choices, and for the secretariat the
// delivery state of every e-mail and the reminders.

import { get, post, request, query } from '../api.js';
import { t } from '../i18n.js';
import {
  h, add, field, table, pager, fmtTime, notify, problemSlot, showProblem, clearProblem, go, confirmDialog,
} from '../ui.js';

/** The unread count shown in the header; pages call `refreshUnread` after changing it. */
const unreadListeners = new Set();
export const onUnread = (fn) => unreadListeners.add(fn);
export async function refreshUnread() {
  try {
    const inbox = await get('/api/v1/notifications?per_page=1');
    for (const fn of unreadListeners) fn(inbox.unread);
  } catch { /* the header keeps its last count */ }
}

/** What a notice says, in the interface's language, with links to both activities. */
function describe(n) {
  const p = n.params || {};
  const mine = n.activity_id ? h('a', { href: `#/activities/${n.activity_id}` }, p.title || '') : null;
  const theirs = n.other_id ? h('a', { href: `#/activities/${n.other_id}` }, p.other_title || '') : null;
  const parts = (key, vars) => {
    // The sentence with the two titles as links: split on the placeholders.
    const text = t(key, { ...vars, title: '\u0001', other_title: '\u0002' });
    return text.split(/(\u0001|\u0002)/).map((s) => (s === '\u0001' ? mine : s === '\u0002' ? theirs : s));
  };
  if (n.kind === 'match') {
    return parts('notice.match', { agency: p.other_agency, level: t(`notice.level.${n.level}`) });
  }
  if (n.kind === 'review') {
    const who = p.by_secretariat ? t('notice.secretariat') : p.other_agency;
    return parts('notice.review', { agency: who, decision: t(`decision.${p.decision}`) });
  }
  const reasons = (p.reasons || []).map((r) => h('li', {}, t(`notice.reason.${r}`)));
  return [t('notice.reminder'), h('ul', {}, reasons), p.note ? h('p', { class: 'note' }, p.note) : null];
}

export async function inbox(view, { params }) {
  const unread = params.get('unread') === 'true';
  const page = Number(params.get('page')) || 1;
  const data = await get(`/api/v1/notifications${query({ unread, page, per_page: 20 })}`);
  const markAll = h('button', {
    type: 'button',
    disabled: data.unread === 0,
    onclick: async () => {
      const r = await post('/api/v1/notifications/read-all');
      notify(t('notice.marked', { count: r.data.marked }));
      await refreshUnread();
      go(`#/notifications${query({ unread, page: 1 })}`);
    },
  }, t('notice.mark_all'));
  const item = (n) => h('li', { class: `notice${n.read_at ? '' : ' unread'}` },
    h('p', { class: 'notice-when' }, fmtTime(n.created_at),
      n.read_at ? null : h('span', { class: 'badge' }, t('notice.new'))),
    h('div', { class: 'notice-what' }, describe(n)),
    n.read_at ? null : h('button', {
      type: 'button',
      class: 'link',
      onclick: async () => {
        await request(`/api/v1/notifications/${n.id}/read`, { method: 'POST' });
        await refreshUnread();
        go(`#/notifications${query({ unread, page })}`);
      },
    }, t('notice.mark_read')));
  add(view,
    h('h1', {}, t('notice.title')),
    h('p', { class: 'lead' }, t('notice.lead')),
    h('div', { class: 'toolbar' },
      h('a', { href: unread ? '#/notifications' : '#/notifications?unread=true' }, unread ? t('notice.show_all') : t('notice.show_unread')),
      markAll,
      h('a', { href: '#/account' }, t('notice.settings_link'))),
    h('p', { class: 'count', role: 'status' }, t('notice.unread_count', { count: data.unread })),
    data.items.length
      ? h('ul', { class: 'notices' }, data.items.map(item))
      : h('p', { class: 'empty' }, unread ? t('notice.none_unread') : t('notice.none')),
    pager(data, (p) => go(`#/notifications${query({ unread, page: p })}`)));
}

/** The e-mail choices, for the account page. */
export async function settingsForm() {
  const s = await get('/api/v1/me/notification-settings');
  const email = field('email', t('notice.email_mode'), {
    kind: 'select',
    value: s.email,
    options: ['immediate', 'daily', 'none'].map((m) => [m, t(`notice.mode.${m}`)]),
  });
  const overlaps = field('overlaps', t('notice.overlaps'), { kind: 'checkbox', value: s.overlaps });
  const language = field('language', t('notice.language'), {
    kind: 'select',
    value: s.language,
    options: [['en', 'English'], ['fr', 'Français'], ['es', 'Español']],
  });
  const form = h('form', { class: 'card narrow', novalidate: true }, problemSlot(), email, overlaps, language,
    h('button', { type: 'submit', class: 'primary' }, t('save_changes')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    try {
      await request('/api/v1/me/notification-settings', {
        method: 'PUT',
        body: { email: email.control.value, overlaps: overlaps.control.checked, language: language.control.value },
      });
      notify(t('notice.settings_saved'));
    } catch (err) {
      showProblem(form, err);
    }
  });
  return [h('h2', { id: 'notices' }, t('notice.settings_title')), h('p', {}, t('notice.settings_lead')), form];
}

/** Every e-mail and its delivery state, and the reminders (the secretariat). */
export async function mailLog(view, { params }) {
  const state = params.get('state') || '';
  const page = Number(params.get('page')) || 1;
  const data = await get(`/api/v1/mail${query({ state, page, per_page: 50 })}`);
  const stateField = field('state', t('notice.mail_state'), {
    kind: 'select',
    value: state,
    options: [['', t('review_status.all')], ...['queued', 'sent', 'failed'].map((s) => [s, t(`notice.state.${s}`)])],
  });
  stateField.control.addEventListener('change', () => go(`#/admin/mail${query({ state: stateField.control.value })}`));
  const note = field('note', t('notice.reminder_note'), { kind: 'textarea', attrs: { maxlength: 2000 } });
  const result = h('div', { role: 'status' });
  const remind = h('form', { class: 'card', novalidate: true }, problemSlot(),
    h('p', {}, t('notice.reminders_lead')), note,
    h('button', { type: 'submit', class: 'primary' }, t('notice.send_reminders')), result);
  remind.addEventListener('submit', (e) => {
    e.preventDefault();
    clearProblem(remind);
    confirmDialog(t('notice.reminders_confirm'), t('notice.send_reminders')).then(async (yes) => {
      if (!yes) return;
      try {
        const r = await post('/api/v1/reminders', { note: note.control.value.trim() || null });
        const reminded = r.data.reminded;
        add(result, h('p', {}, t('notice.reminded', { count: reminded.length })),
          table(t('notice.reminded_title'), [
            [t('agency'), (m) => m.acronym],
            [t('notice.why'), (m) => m.reasons.map((x) => t(`notice.reason.${x}`)).join('; ')],
            [t('notice.recipients'), (m) => (m.recipients.length ? m.recipients.join(', ') : t('notice.nobody'))],
          ], reminded));
      } catch (err) {
        showProblem(remind, err);
      }
    });
  });
  add(view,
    h('h1', {}, t('notice.mail_title')),
    h('p', { class: 'lead' }, t('notice.mail_lead')),
    h('h2', {}, t('notice.reminders_title')), remind,
    h('h2', {}, t('notice.messages_title')),
    h('div', { class: 'filters' }, stateField),
    h('p', { class: 'count', role: 'status' }, t('results', { count: data.total })),
    table(t('notice.messages_title'), [
      [t('when'), (m) => fmtTime(m.created_at)],
      [t('notice.kind'), (m) => t(`notice.kind.${m.kind}`)],
      [t('notice.recipient'), (m) => m.recipient],
      [t('notice.mail_state'), (m) => h('span', { class: `badge mail-${m.state}` }, t(`notice.state.${m.state}`))],
      [t('notice.attempts'), (m) => String(m.attempts)],
      [t('notice.answer'), (m) => m.last_error || (m.sent_at ? fmtTime(m.sent_at) : m.next_attempt_at ? t('notice.next_try', { at: fmtTime(m.next_attempt_at) }) : '—')],
    ], data.items, { empty: t('notice.no_mail') }),
    pager(data, (p) => go(`#/admin/mail${query({ state, page: p })}`)));
}
