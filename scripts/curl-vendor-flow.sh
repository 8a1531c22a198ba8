#!/usr/bin/env bash
# The whole vendor flow against a running Goldline API with curl and sha256sum:
# a client nobody in this repository wrote. Reads the endpoint and tokens from
# the profile `npm start -- --serve` writes.
#
#   scripts/curl-vendor-flow.sh [PROFILE] [WORKDIR]
#     PROFILE  default .goldline/local.json   WORKDIR  default a new temp directory
#
# Steps: no token → 401; vendor-a lists its batches, reads one awaiting a
# submission, downloads its manifest and an image, asks for an upload slot with
# the file's size and SHA-256, PUTs the file with the slot's headers and reads
# its validation report; vendor-b asking for vendor-a's batch gets the 404 a
# missing batch gets, body for body; the QA lead reads the scorecards.
# Exit 0 when every step answered as expected; otherwise 1, naming the step.
set -euo pipefail

PROFILE=${1:-.goldline/local.json}
WORK=${2:-$(mktemp -d)}
mkdir -p "$WORK"
for tool in curl sha256sum node; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (apt-get install -y curl coreutils)" >&2; exit 1; }
done
[ -r "$PROFILE" ] || { echo "FAIL: no profile at $PROFILE (start the stack with: npm start -- --serve)" >&2; exit 1; }

# json EXPR: evaluates a JavaScript expression over the JSON on stdin (as `j`).
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const v=eval(process.argv[1]);process.stdout.write(typeof v==="string"?v:JSON.stringify(v))})' "$1"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "ok: $*"; }

API=$(json 'j.endpoint' <"$PROFILE")
PROGRAM=$(json 'j.program ?? "demo-cxr"' <"$PROFILE")
TOKEN_A=$(json 'j.tokens["vendor-a"]' <"$PROFILE")
TOKEN_B=$(json 'j.tokens["vendor-b"]' <"$PROFILE")
TOKEN_QA=$(json 'j.tokens.qa' <"$PROFILE")

# call TOKEN METHOD PATH [BODY]: prints the body to $WORK/body, returns the status on stdout.
call() {
  local token=$1 method=$2 path=$3 body=${4:-}
  local args=(-sS -o "$WORK/body" -w '%{http_code}' -X "$method" "$API$path")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  curl "${args[@]}"
}

status=$(call "" GET /v1/batches)
[ "$status" = 401 ] || fail "no token: expected 401, got $status"
[ "$(json 'j.type' <"$WORK/body")" = urn:goldline:problem:unauthenticated ] || fail "no token: not an unauthenticated problem: $(cat "$WORK/body")"
step "no token → 401 ($(json 'j.title' <"$WORK/body"))"

status=$(call "$TOKEN_A" GET /v1/batches)
[ "$status" = 200 ] || fail "vendor-a batches: $status $(cat "$WORK/body")"
BATCH=$(json 'j.items.find(b => b.status === "awaiting-submission")?.batchId ?? ""' <"$WORK/body")
[ -n "$BATCH" ] || fail "vendor-a has no batch awaiting a submission: $(cat "$WORK/body")"
step "vendor-a lists $(json 'j.items.length' <"$WORK/body") batch(es); works $BATCH"

status=$(call "$TOKEN_A" GET "/v1/batches/$BATCH")
[ "$status" = 200 ] || fail "vendor-a batch: $status $(cat "$WORK/body")"
MANIFEST_URL=$(json 'j.manifestUrl' <"$WORK/body")
curl -sSf -o "$WORK/manifest.json" "$MANIFEST_URL" || fail "manifest download"
ITEMS=$(json 'j.items.length' <"$WORK/manifest.json")
FIRST=$(json 'j.items[0].alias' <"$WORK/manifest.json")
step "manifest: $ITEMS items, labels $(json 'j.task.classes.join("/")' <"$WORK/manifest.json")"

status=$(call "$TOKEN_A" POST "/v1/batches/$BATCH/image-urls" "{\"aliases\":[\"$FIRST\"]}")
[ "$status" = 200 ] || fail "image urls: $status $(cat "$WORK/body")"
curl -sSf -o "$WORK/image" "$(json "j.urls[\"$FIRST\"]" <"$WORK/body")" || fail "image download"
[ -s "$WORK/image" ] || fail "the image $FIRST is empty"
step "image $FIRST: $(wc -c <"$WORK/image") bytes"

# One line per alias, every one labelled with the first class.
CLASS=$(json 'j.task.classes[0]' <"$WORK/manifest.json")
json "j.items.map(i => JSON.stringify({ alias: i.alias, label: \"$CLASS\", annotator: \"vendor-a/curl\" })).join(\"\\n\") + \"\\n\"" \
  <"$WORK/manifest.json" >"$WORK/labels.jsonl"
SIZE=$(wc -c <"$WORK/labels.jsonl" | tr -d ' ')
SHA=$(sha256sum "$WORK/labels.jsonl" | cut -d' ' -f1)
status=$(call "$TOKEN_A" POST "/v1/batches/$BATCH/uploads" "{\"sizeBytes\":$SIZE,\"sha256Hex\":\"$SHA\"}")
[ "$status" = 201 ] || fail "upload slot: $status $(cat "$WORK/body")"
cp "$WORK/body" "$WORK/slot.json"
UPLOAD=$(json 'j.uploadId' <"$WORK/slot.json")
HEADERS=()
# Exactly the slot's headers (they are signed): one "name: value" line each.
while IFS= read -r h; do HEADERS+=(-H "$h"); done < <(json 'Object.entries(j.headers).map(([k, v]) => `${k}: ${v}\n`).join("")' <"$WORK/slot.json")
put=$(curl -sS -o "$WORK/put" -w '%{http_code}' -X PUT "${HEADERS[@]}" --data-binary "@$WORK/labels.jsonl" "$(json 'j.url' <"$WORK/slot.json")")
[ "$put" = 200 ] || fail "PUT to the slot: $put $(cat "$WORK/put")"
step "uploaded $SIZE bytes (sha256 $SHA) as $UPLOAD"

for _ in $(seq 1 240); do
  status=$(call "$TOKEN_A" GET "/v1/batches/$BATCH/uploads/$UPLOAD")
  [ "$status" = 200 ] || fail "report: $status $(cat "$WORK/body")"
  REPORT=$(json 'j.status' <"$WORK/body")
  [ "$REPORT" != pending ] && break
  sleep 0.25
done
[ "$REPORT" != pending ] || fail "the report of $UPLOAD is still pending after 60 s"
cp "$WORK/body" "$WORK/report.json"
step "report: $REPORT ($(json 'j.problems.length' <"$WORK/report.json") problem(s))"

MISSING="${BATCH%?}9"
[ "$MISSING" != "$BATCH" ] || MISSING="${BATCH%?}8"
theirs=$(call "$TOKEN_B" GET "/v1/batches/$BATCH"); sed "s/$BATCH/ID/g" "$WORK/body" >"$WORK/theirs"
missing=$(call "$TOKEN_B" GET "/v1/batches/$MISSING"); sed "s/$MISSING/ID/g" "$WORK/body" >"$WORK/missing"
[ "$theirs" = 404 ] && [ "$missing" = 404 ] || fail "vendor-b: expected 404 twice, got $theirs and $missing"
cmp -s "$WORK/theirs" "$WORK/missing" || fail "vendor-b: vendor-a's batch answers unlike a missing one: $(cat "$WORK/theirs") vs $(cat "$WORK/missing")"
step "vendor-b gets 404 for vendor-a's batch, the same body as a missing batch"

status=$(call "$TOKEN_QA" GET "/v1/programs/$PROGRAM/scorecards")
[ "$status" = 200 ] || fail "QA scorecards: $status $(cat "$WORK/body")"
step "QA reads $(json 'j.items.length' <"$WORK/body") scorecard(s)"
echo "vendor flow with curl: all steps passed"
