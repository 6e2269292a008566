#!/usr/bin/env bash
# A sandbox account from sign-up to a qualified Solutions Partner designation (Security), in
# curl calls. Needs a running server (`make run`), curl and jq.
#   PC=target/release/partner-center  URL=http://127.0.0.1:8080  docs/examples/sandbox-to-solutions-partner.sh
set -euo pipefail
PC=${PC:-target/release/partner-center}
URL=${URL:-http://127.0.0.1:8080}
DIR=$(cat /proc/sys/kernel/random/uuid)                   # Contoso's directory (tenant)
JANE=$($PC token --directory "$DIR" --email jane.doe@contoso.com)
call() { # call METHOD PATH TOKEN [JSON]
  curl -sS --fail-with-body -X "$1" "$URL$2" -H "Authorization: Bearer $3" \
    -H 'Content-Type: application/json' ${4:+-d "$4"}
}

# 1. Enroll a sandbox account: its clock is frozen at creation and moves only when told.
call POST /v1/accounts "$JANE" '{"sandbox": true,
  "legal_name": "Contoso Ltd.", "country": "US", "website": "https://www.contoso.com",
  "address": {"line1": "1 Microsoft Way", "city": "Redmond", "state_or_province": "WA", "postal_code": "98052"},
  "primary_contact": {"first_name": "Jane", "last_name": "Doe", "email": "jane.doe@contoso.com", "phone": "+1 425 555 0100"}}' \
  | jq '{partner_id, sandbox, verification: .verification.status}'
NOW=$(call GET /v1/sandbox/clock "$JANE" | jq -r .now)

# 2. The sandbox stands in for the operator: verification passes.
call POST /v1/sandbox/verification "$JANE" '{"outcome": "verified"}' | jq '.verification.status'

# 3. Five engineers link their Learn profiles; the learning platform (sandbox stand-in)
#    reports a Security certification for each. Credit counts 10 days after linking.
for i in 1 2 3 4 5; do
  call POST /v1/users "$JANE" "{\"email\": \"engineer$i@contoso.com\", \"roles\": [\"report_viewer\"]}" > /dev/null
  ENGINEER=$($PC token --directory "$DIR" --email "engineer$i@contoso.com")
  call POST /v1/me/learning-profile "$ENGINEER" "{\"learn_id\": \"mcid-contoso-$i\"}" > /dev/null
  call POST /v1/sandbox/skilling/completions "$JANE" "{\"learn_id\": \"mcid-contoso-$i\",
    \"kind\": \"certification\", \"credential\": \"security_operations_analyst_associate\",
    \"title\": \"Security Operations Analyst Associate\", \"completed_at\": \"$NOW\"}" > /dev/null
done
call GET '/v1/skilling?status=pending' "$JANE" | jq '[.items[] | {learn_id, status, counts_from}]'

# 4. Performance: three customers linked by PAL, each with US$1,000+ monthly revenue, and
#    20% usage growth at one of them (only linked customers count).
for i in 1 2 3; do
  CUSTOMER=$(cat /proc/sys/kernel/random/uuid)
  call POST /v1/partner-links "$JANE" "{\"kind\": \"pal\", \"customer_tenant_id\": \"$CUSTOMER\"}" > /dev/null
  call POST /v1/sandbox/performance-records "$JANE" "{\"area\": \"security\", \"customer_tenant_id\": \"$CUSTOMER\",
    \"kind\": \"revenue\", \"monthly_revenue\": {\"amount_minor\": 150000, \"currency\": \"USD\"}, \"occurred_at\": \"$NOW\"}" > /dev/null
done
call POST /v1/sandbox/performance-records "$JANE" "{\"area\": \"security\", \"customer_tenant_id\": \"$CUSTOMER\",
  \"kind\": \"usage_growth\", \"growth_percent\": 20, \"occurred_at\": \"$NOW\"}" > /dev/null

# 5. Today the Security score is 50 (skilling still pending): not qualified, and the
#    eligibility check says when time alone will make it so.
call GET /v1/solutions-partner/scores "$JANE" \
  | jq '.items[] | select(.area == "security") | {total, qualified, qualifies_from}'
call GET /v1/programs/solutions_partner_security/eligibility "$JANE" \
  | jq '{eligible, failed: [.checks[] | select(.satisfied | not) | {code, satisfied_from}]}'

# 6. Ten days later (sandbox clock), the credit counts: 30 + 20 + 20 = 70, every metric above
#    zero. The account qualifies for the designation.
call POST /v1/sandbox/clock "$JANE" '{"advance_days": 10}' | jq .now
call GET /v1/solutions-partner/scores "$JANE" \
  | jq '.items[] | select(.area == "security") | {performance: .performance.points, skilling: .skilling.points, customer_success: .customer_success.points, total, qualified}'
call GET /v1/programs/solutions_partner_security/eligibility "$JANE" | jq '{program_id, eligible}'
