//! The one schema for both backends: only portable column types (see STYLE.md).

diesel::table! {
    accounts (id) {
        id -> Text,
        directory_id -> Text,
        partner_id -> Text,
        legal_name -> Text,
        address_line1 -> Text,
        address_line2 -> Nullable<Text>,
        city -> Text,
        state_or_province -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        country -> Text,
        website -> Text,
        contact_first_name -> Text,
        contact_last_name -> Text,
        contact_email -> Text,
        contact_phone -> Text,
        verification_status -> Text,
        owner_user_id -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (account_id, id) {
        account_id -> Text,
        id -> Text,
        email -> Text,
        email_key -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (account_id, user_id, role) {
        account_id -> Text,
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    idempotency_keys (scope, principal, idempotency_key) {
        scope -> Text,
        principal -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        state -> Text,
        claim_token -> Text,
        locked_until -> Timestamp,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, users, user_roles);
