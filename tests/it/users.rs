//! Users and roles (DESIGN §3): CRUD with ETags, who may manage users, grant rules, and the
//! last global admin.

use crate::dual_test;
use crate::harness::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

async fn user(app: &TestApp, token: &str, id: &str) -> (Value, String) {
    let reply = app.get(&format!("/v1/users/{id}"), Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let etag = reply.header("etag").expect("etag").to_owned();
    (reply.json(), etag)
}

async fn set_roles(app: &TestApp, token: &str, id: &str, roles: Value) -> crate::harness::Reply {
    let (_, etag) = user(app, token, id).await;
    app.put_json(
        &format!("/v1/users/{id}/roles"),
        token,
        &etag,
        &json!({"roles": roles}),
    )
    .await
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["email"].as_str().unwrap_or_default().to_owned())
        .collect()
}

dual_test! {
    async fn users_are_added_read_changed_and_removed(app) {
        let (directory, owner, _) = app.create_account().await;
        let reply = app.post_json("/v1/users", &owner, &json!({
            "email": "Sam.Lee@contoso.com", "first_name": "Sam", "last_name": "Lee",
            "roles": ["report_viewer", "billing_admin", "report_viewer"]
        })).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let created = reply.json();
        let id = created["id"].as_str().expect("id").to_owned();
        assert_eq!(reply.header("location"), Some(format!("/v1/users/{id}").as_str()));
        assert_eq!(created["roles"], json!(["billing_admin", "report_viewer"]));
        assert_eq!(created["is_owner"], false);

        // The same email (any case) again.
        app.post_json("/v1/users", &owner, &json!({"email": "sam.lee@CONTOSO.com", "roles": []})).await
            .assert_problem(409, "user_exists");
        let invalid = app.post_json("/v1/users", &owner, &json!({"email": "not-an-email", "roles": ["owner"]})).await;
        invalid.assert_problem(400, "validation_failed");

        let (read, etag) = user(&app, &owner, &id).await;
        assert_eq!(read, created);
        let list = app.get("/v1/users", Some(&owner)).await.json();
        assert_eq!(ids(&list), vec!["jane.doe@contoso.com", "Sam.Lee@contoso.com"]);
        let admins = app.get("/v1/users?role=global_admin", Some(&owner)).await.json();
        assert_eq!(ids(&admins), vec!["jane.doe@contoso.com"]);
        app.get("/v1/users?role=owner", Some(&owner)).await.assert_problem(400, "invalid_query_parameter");

        // PATCH: absent keeps, null clears; If-Match required and checked.
        let path = format!("/v1/users/{id}");
        app.send(app.request(Method::PATCH, &path).bearer_auth(&owner).json(&json!({"first_name": "Samuel"}))).await
            .assert_problem(428, "precondition_required");
        let patched = app.patch_json(&path, &owner, &etag, &json!({"first_name": "Samuel", "last_name": null})).await;
        assert_eq!(patched.status, 200, "{}", patched.text);
        assert_eq!(patched.json()["first_name"], "Samuel");
        assert_eq!(patched.json()["last_name"], Value::Null);
        app.patch_json(&path, &owner, &etag, &json!({"first_name": "Sam"})).await.assert_problem(412, "precondition_failed");

        // The new user signs in and sees themselves.
        let sam = app.user_token(directory, "sam.lee@contoso.com");
        let me = app.get("/v1/me", Some(&sam)).await.json();
        assert_eq!(me["user_id"], id.as_str());

        let (_, etag) = user(&app, &owner, &id).await;
        app.delete(&path, &owner, None).await.assert_problem(428, "precondition_required");
        let deleted = app.delete(&path, &owner, Some(&etag)).await;
        assert_eq!(deleted.status, 204, "{}", deleted.text);
        app.get(&path, Some(&owner)).await.assert_problem(404, "not_found");
        app.get("/v1/me/access", Some(&sam)).await.assert_problem(403, "not_a_member");
    }

    async fn the_last_global_admin_cannot_be_removed_or_demoted(app) {
        let (directory, owner, _) = app.create_account().await;
        let owner_id = app.get("/v1/me", Some(&owner)).await.json()["user_id"].as_str().expect("id").to_owned();
        set_roles(&app, &owner, &owner_id, json!(["account_admin"])).await.assert_problem(409, "last_global_admin");
        let (_, etag) = user(&app, &owner, &owner_id).await;
        app.delete(&format!("/v1/users/{owner_id}"), &owner, Some(&etag)).await.assert_problem(409, "last_global_admin");

        // With a second global admin, the first can step down.
        let (second, second_token) = app.add_user(directory, &owner, "sam.lee@contoso.com", &["global_admin"]).await;
        let demoted = set_roles(&app, &owner, &owner_id, json!(["account_admin"])).await;
        assert_eq!(demoted.status, 200, "{}", demoted.text);
        assert_eq!(demoted.json()["roles"], json!(["account_admin"]));
        // Now the second is the last one.
        set_roles(&app, &second_token, &second, json!([])).await.assert_problem(409, "last_global_admin");
        let admins = app.get("/v1/users?role=global_admin", Some(&owner)).await.json();
        assert_eq!(ids(&admins), vec!["sam.lee@contoso.com"]);
    }

    async fn only_user_managers_manage_users_and_only_within_their_grants(app) {
        let (directory, owner, _) = app.create_account().await;
        let (_, viewer) = app.add_user(directory, &owner, "viewer@contoso.com", &["report_viewer"]).await;
        let (_, account_admin) = app.add_user(directory, &owner, "aa@contoso.com", &["account_admin"]).await;
        let (_, user_admin) = app.add_user(directory, &owner, "uma@contoso.com", &["user_management_admin"]).await;

        // Everyone may read users (to find their admins); only the three managers may add.
        assert_eq!(app.get("/v1/users", Some(&viewer)).await.status, 200);
        let refused = app.post_json("/v1/users", &viewer, &json!({"email": "x@contoso.com", "roles": []})).await;
        let problem = refused.assert_problem(403, "insufficient_role");
        assert!(problem["detail"].as_str().unwrap_or_default().contains("users.manage"));

        // Account admins grant Partner Center roles, not directory roles.
        let granted = app.post_json("/v1/users", &account_admin, &json!({"email": "a1@contoso.com", "roles": ["mpn_partner_admin"]})).await;
        assert_eq!(granted.status, 201, "{}", granted.text);
        let refused = app.post_json("/v1/users", &account_admin, &json!({"email": "a2@contoso.com", "roles": ["billing_admin"]})).await;
        refused.assert_problem(403, "role_not_grantable");
        app.post_json("/v1/users", &account_admin, &json!({"email": "a3@contoso.com", "roles": ["global_admin"]})).await
            .assert_problem(403, "role_not_grantable");
        // User management admins grant all but global admin.
        let granted = app.post_json("/v1/users", &user_admin, &json!({"email": "u1@contoso.com", "roles": ["billing_admin"]})).await;
        assert_eq!(granted.status, 201, "{}", granted.text);
        app.post_json("/v1/users", &user_admin, &json!({"email": "u2@contoso.com", "roles": ["global_admin"]})).await
            .assert_problem(403, "role_not_grantable");
        // Nor may they take away a role they cannot grant.
        let owner_id = app.get("/v1/me", Some(&owner)).await.json()["user_id"].as_str().expect("id").to_owned();
        let (_, etag) = user(&app, &owner, &owner_id).await;
        app.delete(&format!("/v1/users/{owner_id}"), &user_admin, Some(&etag)).await.assert_problem(403, "role_not_grantable");
        set_roles(&app, &user_admin, &owner_id, json!(["report_viewer"])).await
            .assert_problem(403, "role_not_grantable");
        // Only the roles that change count: adding one they may grant is fine.
        let added = set_roles(&app, &user_admin, &owner_id, json!(["global_admin", "report_viewer"])).await;
        assert_eq!(added.status, 200, "{}", added.text);
        assert_eq!(added.json()["roles"], json!(["global_admin", "report_viewer"]));
    }

    async fn roles_describe_their_workspaces_permissions_and_grants(app) {
        let (_, owner, _) = app.create_account().await;
        let roles = app.get("/v1/roles", Some(&owner)).await.json();
        let items = roles["items"].as_array().expect("items");
        assert_eq!(items.len(), 16);
        let find = |id: &str| items.iter().find(|r| r["id"] == id).cloned().expect("role");
        let global = find("global_admin");
        assert_eq!(global["workspaces"].as_array().map(Vec::len), Some(13));
        assert_eq!(global["grants"].as_array().map(Vec::len), Some(16));
        let mpn = find("mpn_partner_admin");
        assert!(mpn["workspaces"].as_array().expect("ws").contains(&json!("membership")));
        assert!(!mpn["workspaces"].as_array().expect("ws").contains(&json!("billing")));
        assert_eq!(mpn["grants"], json!([]));
        assert_eq!(find("billing_admin")["workspaces"], json!(["action_center", "billing", "pricing", "help_support"]));
        assert_eq!(find("user_management_admin")["permissions"], json!(["account.read", "users.read", "users.manage"]));
    }
}

dual_test! {
    async fn two_admins_demoting_each_other_at_once_leave_one(app) {
        let (directory, owner, _) = app.create_account().await;
        let owner_id = app.get("/v1/me", Some(&owner)).await.json()["user_id"].as_str().expect("id").to_owned();
        for round in 0..8 {
            let email = format!("admin{round}@contoso.com");
            let (other_id, other) = app.add_user(directory, &owner, &email, &["global_admin"]).await;
            let (_, owner_tag) = user(&app, &owner, &owner_id).await;
            let (_, other_tag) = user(&app, &owner, &other_id).await;
            let body = json!({"roles": ["account_admin"]});
            let (owner_path, other_path) = (format!("/v1/users/{owner_id}/roles"), format!("/v1/users/{other_id}/roles"));
            let (a, b) = tokio::join!(
                app.put_json(&owner_path, &other, &owner_tag, &body),
                app.put_json(&other_path, &owner, &other_tag, &body),
            );
            let statuses = [a.status.as_u16(), b.status.as_u16()];
            let admins = app.get("/v1/users?role=global_admin", Some(&owner)).await.json();
            // Exactly one demotion wins; the other is refused as the last global admin (or, when
            // its caller was demoted first, for lacking the role).
            assert_eq!(admins["items"].as_array().map(Vec::len), Some(1), "round {round}: {statuses:?}");
            assert!(statuses.contains(&200), "round {round}: {statuses:?} {} {}", a.text, b.text);
            // Restore: the survivor promotes the other back, then the extra admin leaves.
            let survivor = admins["items"][0]["id"].as_str().expect("id").to_owned();
            let (survivor_token, demoted) = if survivor == owner_id {
                (owner.clone(), other_id.clone())
            } else {
                (other.clone(), owner_id.clone())
            };
            let (_, tag) = user(&app, &survivor_token, &demoted).await;
            let restored = app.put_json(&format!("/v1/users/{demoted}/roles"), &survivor_token, &tag, &json!({"roles": ["global_admin"]})).await;
            assert_eq!(restored.status, 200, "{}", restored.text);
            let (_, tag) = user(&app, &owner, &other_id).await;
            let removed = app.delete(&format!("/v1/users/{other_id}"), &owner, Some(&tag)).await;
            assert_eq!(removed.status, 204, "{}", removed.text);
        }
    }
}
