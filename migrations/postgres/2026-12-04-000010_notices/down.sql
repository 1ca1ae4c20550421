DROP TABLE mail_unsubscribes;
DROP TABLE mail_outbox;
DROP TABLE notice_settings;
DROP TABLE pair_notices;
DROP TABLE notices;
