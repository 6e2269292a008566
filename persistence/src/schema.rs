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
        verification_reason -> Nullable<Text>,
        under_review -> Text,
        owner_user_id -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sandbox_clock -> Nullable<Timestamp>,
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
        version -> BigInt,
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

diesel::table! {
    verification_evidence (account_id, id) {
        account_id -> Text,
        id -> Text,
        file_name -> Nullable<Text>,
        media_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        content -> Binary,
        comment -> Nullable<Text>,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    apps (account_id, id) {
        account_id -> Text,
        id -> Text,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        secret_hint -> Text,
        secret_created_at -> Timestamp,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    app_roles (account_id, app_id, role) {
        account_id -> Text,
        app_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    action_center_items (account_id, id) {
        account_id -> Text,
        id -> Text,
        kind -> Text,
        priority -> Nullable<Text>,
        category -> Nullable<Text>,
        event -> Text,
        workspace -> Text,
        user_id -> Nullable<Text>,
        title -> Text,
        message -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    action_center_archives (account_id, item_id, user_id) {
        account_id -> Text,
        item_id -> Text,
        user_id -> Text,
        archived_at -> Timestamp,
    }
}

diesel::table! {
    notification_preferences (account_id, user_id) {
        account_id -> Text,
        user_id -> Text,
        contact_email -> Nullable<Text>,
        contact_email_verified_at -> Nullable<Timestamp>,
        language -> Text,
        promotional_opt_out -> Integer,
        transactional_opt_out -> Integer,
        code_hash -> Nullable<Text>,
        code_expires_at -> Nullable<Timestamp>,
        code_attempts -> Integer,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    email_outbox (account_id, id) {
        account_id -> Text,
        id -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_records (account_id, id) {
        account_id -> Text,
        id -> Text,
        at -> Timestamp,
        actor_kind -> Text,
        actor -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        request_id -> Text,
        details -> Text,
    }
}

diesel::table! {
    programs (id) {
        id -> Text,
        definition -> Text,
        catalog_version -> Integer,
        edited_by -> Nullable<Text>,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    program_allow_list (account_id, program_id) {
        account_id -> Text,
        program_id -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    memberships (account_id, id) {
        account_id -> Text,
        id -> Text,
        program_id -> Text,
        standing -> Text,
        source -> Text,
        benefit_pack -> Nullable<Text>,
        activated_at -> Nullable<Timestamp>,
        anniversary_at -> Nullable<Timestamp>,
        renewable -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    learning_links (account_id, id) {
        account_id -> Text,
        id -> Text,
        user_id -> Text,
        learn_id -> Text,
        realm -> Text,
        linked_at -> Timestamp,
        unlinked_at -> Nullable<Timestamp>,
        unlinked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    skilling_completions (realm, learn_id, id) {
        realm -> Text,
        learn_id -> Text,
        id -> Text,
        kind -> Text,
        credential -> Text,
        title -> Text,
        completed_at -> Timestamp,
        received_at -> Timestamp,
    }
}

diesel::table! {
    skilling_credits (account_id, id) {
        account_id -> Text,
        id -> Text,
        link_id -> Text,
        completion_id -> Text,
        user_id -> Text,
        learn_id -> Text,
        kind -> Text,
        credential -> Text,
        title -> Text,
        completed_at -> Timestamp,
        counts_from -> Timestamp,
    }
}

diesel::table! {
    partner_links (account_id, id) {
        account_id -> Text,
        id -> Text,
        kind -> Text,
        customer_tenant_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    performance_records (account_id, id) {
        account_id -> Text,
        id -> Text,
        area -> Text,
        kind -> Text,
        customer_tenant_id -> Text,
        revenue_minor -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        growth_percent -> Nullable<Integer>,
        workload -> Nullable<Text>,
        occurred_at -> Timestamp,
        received_at -> Timestamp,
    }
}

diesel::table! {
    program_applications (account_id, id) {
        account_id -> Text,
        id -> Text,
        program_id -> Text,
        evidence -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        submitted_by -> Text,
        membership_id -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    marketplace_offers (account_id, id) {
        account_id -> Text,
        id -> Text,
        name -> Text,
        transactable -> Integer,
        status -> Text,
        created_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    orders (account_id, id) {
        account_id -> Text,
        id -> Text,
        number -> BigInt,
        program_id -> Text,
        kind -> Text,
        payment_method -> Text,
        standing -> Text,
        benefit_pack -> Nullable<Text>,
        currency -> Text,
        subtotal_minor -> BigInt,
        tax_minor -> BigInt,
        total_minor -> BigInt,
        tax_rate_bps -> Integer,
        refunded_minor -> BigInt,
        membership_id -> Nullable<Text>,
        covered_by -> Nullable<Text>,
        wire_reference -> Nullable<Text>,
        gateway_charge -> Nullable<Text>,
        failure_code -> Nullable<Text>,
        failure_message -> Nullable<Text>,
        placed_by -> Text,
        placed_at -> Timestamp,
        pay_by -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        expiry_raised_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    invoices (account_id, id) {
        account_id -> Text,
        id -> Text,
        number -> BigInt,
        kind -> Text,
        order_id -> Text,
        credits_invoice_id -> Nullable<Text>,
        currency -> Text,
        subtotal_minor -> BigInt,
        tax_minor -> BigInt,
        total_minor -> BigInt,
        tax_rate_bps -> Integer,
        lines -> Text,
        buyer -> Text,
        payment_method -> Text,
        payment_reference -> Nullable<Text>,
        issued_at -> Timestamp,
    }
}

diesel::table! {
    refunds (account_id, id) {
        account_id -> Text,
        id -> Text,
        order_id -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        gateway_refund -> Nullable<Text>,
        credit_note_id -> Nullable<Text>,
        support_request_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    benefits (account_id, id) {
        account_id -> Text,
        id -> Text,
        membership_id -> Text,
        order_id -> Nullable<Text>,
        program_id -> Text,
        catalog_benefit -> Text,
        kind -> Text,
        name -> Text,
        quantity -> Integer,
        granted_at -> Timestamp,
        valid_until -> Nullable<Timestamp>,
        assignee_user_id -> Nullable<Text>,
        activated_at -> Nullable<Timestamp>,
        reassignments -> Integer,
        product_key -> Nullable<Text>,
        key_revealed_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    support_requests (account_id, id) {
        account_id -> Text,
        id -> Text,
        number -> BigInt,
        created_by -> Text,
        category -> Text,
        title -> Text,
        description -> Text,
        severity -> Text,
        status -> Text,
        order_id -> Nullable<Text>,
        decision -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    support_notes (account_id, request_id, id) {
        account_id -> Text,
        request_id -> Text,
        id -> Text,
        author_kind -> Text,
        author -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (account_id, id) {
        account_id -> Text,
        id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        events -> Text,
        enabled -> Integer,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_events (account_id, id) {
        account_id -> Text,
        id -> Text,
        event_type -> Text,
        payload -> Text,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (account_id, id) {
        account_id -> Text,
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        first_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (account_id, id) {
        account_id -> Text,
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    event_sweeps (name) {
        name -> Text,
        swept_until -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    search_documents (account_id, doc_type, doc_id) {
        account_id -> Text,
        doc_type -> Text,
        doc_id -> Text,
        title -> Text,
        summary -> Text,
        title_terms -> Text,
        body_terms -> Text,
        owner_id -> Nullable<Text>,
    }
}

diesel::table! {
    search_terms (account_id, term) {
        account_id -> Text,
        term -> Text,
    }
}

diesel::table! {
    search_reindex (account_id) {
        account_id -> Text,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    user_roles,
    apps,
    app_roles,
    action_center_items,
    action_center_archives,
    notification_preferences,
    programs,
    program_allow_list,
    memberships,
    learning_links,
    skilling_completions,
    skilling_credits,
    partner_links,
    performance_records,
    program_applications,
    marketplace_offers,
    orders,
    invoices,
    refunds,
    benefits,
    support_requests,
    support_notes,
    webhook_endpoints,
    webhook_events,
    webhook_deliveries,
    webhook_attempts,
    event_sweeps,
    search_documents,
    search_terms,
    search_reindex,
);
