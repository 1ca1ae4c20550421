-- An account the secretariat creates carries a password the secretariat knows: until its owner
-- chooses their own (POST /api/v1/auth/password), every other request is refused with
-- 403 `password_change_required`. Accounts that exist already chose theirs or were handed one
-- before this rule: they are left as they are.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
