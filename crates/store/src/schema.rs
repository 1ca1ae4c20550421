//! The portable schema: one `table!` per table, the same on SQLite and PostgreSQL. It mirrors
//! `migrations/{sqlite,postgres}`; the store's tests check the two stay in step.

diesel::table! {
    agencies (id) {
        id -> Text,
        acronym -> Text,
        name -> Text,
        kind -> Text,
        working_group -> Bool,
        website -> Nullable<Text>,
        joined_on -> Nullable<Date>,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        agency_id -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        version -> Integer,
        must_change_password -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (email) {
        email -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_email -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        outcome -> Text,
        changes -> Nullable<Text>,
    }
}

diesel::table! {
    focal_points (id) {
        id -> Text,
        agency_id -> Text,
        role -> Text,
        name -> Text,
        title -> Nullable<Text>,
        email -> Text,
        phone -> Nullable<Text>,
        languages -> Text,
        countries -> Text,
        themes -> Text,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
        designated_by -> Nullable<Text>,
        last_confirmed_at -> Timestamp,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    focal_point_countries (country, focal_point_id) {
        focal_point_id -> Text,
        country -> Text,
    }
}

diesel::table! {
    focal_point_themes (theme, focal_point_id) {
        focal_point_id -> Text,
        theme -> Text,
    }
}

diesel::table! {
    focal_point_terms (term, focal_point_id) {
        focal_point_id -> Text,
        term -> Text,
    }
}

diesel::table! {
    activities (id) {
        id -> Text,
        agency_id -> Text,
        title -> Text,
        description -> Text,
        countries -> Text,
        themes -> Text,
        sdg_targets -> Text,
        target_groups -> Text,
        partners -> Text,
        start_date -> Date,
        end_date -> Date,
        status -> Text,
        budget_usd -> Nullable<BigInt>,
        same_key -> Text,
        features -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
        version -> Integer,
        /// The folded words of title, description, partners and target groups, separated by
        /// spaces, which the full-text index reads (FTS5 on SQLite, GIN on PostgreSQL).
        search_terms -> Text,
        /// The folded words of the title (a prefix of `search_terms`), which search ranks first
        /// (FTS5 table `activity_titles` on SQLite, GIN on PostgreSQL); NULL until filled after
        /// the migration that added it.
        title_terms -> Nullable<Text>,
    }
}

diesel::table! {
    activity_countries (country, activity_id) {
        activity_id -> Text,
        country -> Text,
        agency_id -> Text,
        start_date -> Date,
        end_date -> Date,
        /// The activity's themes, as `activities.themes` (the map counts by them in one pass).
        themes -> Text,
    }
}

diesel::table! {
    activity_themes (theme, activity_id) {
        activity_id -> Text,
        theme -> Text,
        start_date -> Date,
        end_date -> Date,
    }
}

diesel::table! {
    activity_sdgs (target, activity_id) {
        activity_id -> Text,
        target -> Text,
        start_date -> Date,
        end_date -> Date,
    }
}

diesel::table! {
    activity_bands (band_key, activity_id) {
        band_key -> BigInt,
        activity_id -> Text,
    }
}

diesel::table! {
    activity_pairs (a_id, b_id) {
        a_id -> Text,
        b_id -> Text,
        score -> Double,
        level -> Text,
        reasons -> Text,
        computed_at -> Timestamp,
        overlap_group -> Text,
        /// The agencies of `a_id` and `b_id` (the report of one agency reads them by index).
        a_agency -> Text,
        b_agency -> Text,
        /// The later of the two activities' starts and the earlier of their ends: both run in a
        /// period exactly when `late_start <= to` and `early_end >= from` (the map counts by them).
        late_start -> Date,
        early_end -> Date,
    }
}

diesel::table! {
    pair_reviews (a_id, b_id) {
        a_id -> Text,
        b_id -> Text,
        decision -> Text,
        note -> Nullable<Text>,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        level -> Nullable<Text>,
        activity_id -> Nullable<Text>,
        other_id -> Nullable<Text>,
        params -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    pair_notices (a_id, b_id) {
        a_id -> Text,
        b_id -> Text,
        level -> Text,
        notified_at -> Timestamp,
    }
}
diesel::table! {
    notice_settings (user_id) {
        user_id -> Text,
        email -> Text,
        with_overlaps -> Bool,
        language -> Text,
        last_digest_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}
diesel::table! {
    mail_outbox (id) {
        id -> Text,
        notice_id -> Nullable<Text>,
        kind -> Text,
        recipient -> Text,
        language -> Text,
        params -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    mail_unsubscribes (email) {
        email -> Text,
        at -> Timestamp,
    }
}
diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
    }
}
diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(activities -> agencies (agency_id));
diesel::joinable!(activity_countries -> activities (activity_id));
diesel::joinable!(activity_themes -> activities (activity_id));
diesel::joinable!(activity_sdgs -> activities (activity_id));
diesel::joinable!(focal_points -> agencies (agency_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(notices -> users (user_id));
diesel::joinable!(notice_settings -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    users,
    sessions,
    refresh_tokens,
    login_throttle,
    settings,
    audit_events,
    focal_points,
    focal_point_countries,
    focal_point_themes,
    focal_point_terms,
    activities,
    activity_countries,
    activity_themes,
    activity_sdgs,
    activity_bands,
    activity_pairs,
    pair_reviews,
    idempotency_keys,
    notices,
    pair_notices,
    notice_settings,
    mail_outbox,
    mail_unsubscribes,
    password_resets,
);
