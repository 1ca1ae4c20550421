// Sign in and the account page (change password).

import { login as signIn, post, ApiError, session, passwordChosen } from '../api.js';
import { t, lang } from '../i18n.js';
import { h, add, fill, field, problemSlot, showProblem, clearProblem, clearNotice, notify, go } from '../ui.js';
import { loadContext } from '../context.js';
import { settingsForm } from './notices.js';

export async function login(view, { params }) {
  const email = field('email', t('email'), { kind: 'email', required: true, attrs: { autocomplete: 'username' } });
  const password = field('password', t('password'), { kind: 'password', required: true, attrs: { autocomplete: 'current-password' } });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('sign_in'));
  const form = h('form', { class: 'card narrow', novalidate: true }, problemSlot(), email, password, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    submit.disabled = true;
    try {
      await signIn(email.control.value.trim(), password.control.value);
      clearNotice();
      const next = params.get('next');
      const then = next && next.startsWith('#/') ? next : '#/';
      // A first password given by the secretariat: the account chooses its own before anything.
      if (session.user.must_change_password) {
        go(`#/account?next=${encodeURIComponent(then)}`);
        return;
      }
      // The pages need the vocabularies, members and the user's agency before they draw.
      await loadContext();
      go(then);
    } catch (err) {
      password.control.value = '';
      showProblem(form, err instanceof ApiError ? err : new ApiError(0, { code: 'network' }));
    } finally {
      submit.disabled = false;
    }
  });
  add(view, h('h1', {}, t('sign_in_title')), h('p', { class: 'lead' }, t('sign_in_lead')), form,
    h('p', {}, h('a', { href: '#/reset' }, t('reset.forgot'))));
}

/**
 * A forgotten password: without a token, ask for a link by e-mail; with the link's token, choose
 * the new password (the link works once, for 30 minutes).
 */
export async function resetPassword(view, { params }) {
  const token = params.get('token');
  if (!token) {
    const email = field('email', t('email'), { kind: 'email', required: true, attrs: { autocomplete: 'username' } });
    const done = h('div', { role: 'status' });
    const form = h('form', { class: 'card narrow', novalidate: true }, problemSlot(), email,
      h('button', { type: 'submit', class: 'primary' }, t('reset.send_link')), done);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearProblem(form);
      try {
        await post('/api/v1/auth/password-reset', { email: email.control.value.trim(), language: lang() });
        fill(done, h('p', { class: 'notice-ok' }, t('reset.sent')));
      } catch (err) {
        // 403: the workspace has no mail server, so self-service is off for everyone.
        showProblem(form, err.status === 403 ? new ApiError(403, { code: 'reset_off', detail: t('reset.off') }) : err);
      }
    });
    add(view, h('h1', {}, t('reset.title')), h('p', { class: 'lead' }, t('reset.lead')), form,
      h('p', {}, h('a', { href: '#/login' }, t('sign_in'))));
    return;
  }
  const next = field('new_password', t('new_password'), {
    kind: 'password', required: true, hint: t('password_rules'), attrs: { autocomplete: 'new-password', minlength: 12, maxlength: 128 },
  });
  const again = field('new_password_again', t('new_password_again'), { kind: 'password', required: true, attrs: { autocomplete: 'new-password' } });
  const form = h('form', { class: 'card narrow', novalidate: true }, problemSlot(), next, again,
    h('button', { type: 'submit', class: 'primary' }, t('reset.set_password')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    if (next.control.value !== again.control.value) {
      showProblem(form, new ApiError(422, { code: 'validation_failed', errors: [{ field: 'new_password_again', message: t('passwords_differ') }] }));
      return;
    }
    try {
      await post('/api/v1/auth/password-reset/confirm', { token, new_password: next.control.value });
      notify(t('reset.done'));
      go('#/login');
    } catch (err) {
      showProblem(form, err);
    }
  });
  add(view, h('h1', {}, t('reset.choose_title')), h('p', { class: 'lead' }, t('reset.choose_lead')), form);
}

export async function account(view, { params }) {
  const first = session.user.must_change_password;
  const current = field('current_password', t('current_password'), { kind: 'password', required: true, attrs: { autocomplete: 'current-password' } });
  const next = field('new_password', t('new_password'), {
    kind: 'password', required: true, hint: t('password_rules'), attrs: { autocomplete: 'new-password', minlength: 12, maxlength: 128 },
  });
  const again = field('new_password_again', t('new_password_again'), { kind: 'password', required: true, attrs: { autocomplete: 'new-password' } });
  const form = h('form', { class: 'card narrow', novalidate: true }, problemSlot(), current, next, again,
    h('button', { type: 'submit', class: 'primary' }, t('change_password')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    if (next.control.value !== again.control.value) {
      showProblem(form, new ApiError(422, { code: 'validation_failed', errors: [{ field: 'new_password_again', message: t('passwords_differ') }] }));
      return;
    }
    try {
      await post('/api/v1/auth/password', { current_password: current.control.value, new_password: next.control.value });
      form.reset();
      if (first) {
        passwordChosen();
        await loadContext();
        notify(t('password_chosen'));
        const then = params.get('next');
        go(then && then.startsWith('#/') ? then : '#/');
        return;
      }
      notify(t('password_changed'));
    } catch (err) {
      showProblem(form, err);
    }
  });
  if (first) {
    add(view, h('h1', {}, t('first_password_title')), h('p', { class: 'lead' }, t('first_password_lead')), form);
    return;
  }
  add(view, h('h1', {}, t('account_title')), h('h2', {}, t('change_password')), form, ...(await settingsForm()));
}
