//! Unit tests of the redactor: every shape, the contexts, and text that must stay.

use super::*;

#[test]
fn url_password_is_fingerprinted_and_host_kept() {
    let out = redact_text("postgres://supabase:d5-Zm>zWS@db.example.com:5432/app");
    assert!(!out.contains("d5-Zm"), "{out}");
    assert!(out.contains("@db.example.com:5432/app"), "{out}");
    assert!(out.contains(MARKER));
}

#[test]
fn url_password_runs_to_the_last_at_before_the_host() {
    for url in [
        "postgres://a:p@ss/w?rd#x@db.internal:5432/app",
        "postgres://a:LEAK@/ONE@10.0.0.5/app",
        "mysql://root:LEAK?TWO@ONE@db:3306",
        "amqp://guest:x#LEAK@mq.internal",
    ] {
        let out = redact_text(url);
        for frag in ["ss/w", "rd#x", "LEAK", "ONE", "TWO"] {
            assert!(!out.contains(frag), "{url} -> {out}");
        }
        assert!(out.contains(MARKER), "{url} -> {out}");
    }
    // host:port/path with an @ later in the query is not userinfo.
    let plain = "GET http://api.internal:8080/users?email=ops@example.com 200";
    assert_eq!(redact_text(plain), plain);
}

#[test]
fn urls_with_awkward_credentials_are_redacted() {
    for (name, value, secret) in [
        (
            "DATABASE_URL",
            "postgres://app:Zq9@LEAKONE@10.0.0.5:5432/app",
            "LEAKONE",
        ),
        ("AMQP_URL", "amqp://guest:LEAK/FIVE@10.0.0.9:5672", "FIVE"),
        (
            "CALLBACK_URL",
            "http://10.0.0.8/cb?token=LEAKTWO",
            "LEAKTWO",
        ),
        (
            "API_URL",
            "https://x.example/v1?a=1&api_key=LEAKSIX#top",
            "LEAKSIX",
        ),
        ("SENTRY_DSN", "https://LEAKTHREE@10.1.2.3/42", "LEAKTHREE"),
    ] {
        let out = redact_env_value(name, value);
        assert!(!out.contains(secret), "{name}: {out}");
        assert!(out.contains(MARKER), "{name}: {out}");
    }
    let out = redact_env_value(
        "DATABASE_URL",
        "postgres://app:Zq9@LEAKONE@db.internal:5432/app",
    );
    assert!(out.ends_with("@db.internal:5432/app"), "{out}");
    for v in [
        "http://10.0.100.6:8080",
        "https://api.example.com/v1?page=2",
        "http://host:8080/a/b",
    ] {
        assert_eq!(redact_env_value("UPSTREAM_URL", v), v);
    }
}

/// Each shape of free text, planted in a line: the secret goes, the words around stay.
#[test]
fn every_text_shape_is_caught() {
    for (line, secret) in TEXT_CASES {
        let out = redact_text(line);
        assert!(!out.contains(secret), "{line:?} -> {out}");
        assert!(out.contains(MARKER), "{line:?} -> {out}");
    }
}

/// The cases exercise every shape of the table, so a shape added without a case fails.
#[test]
fn every_shape_has_a_case() {
    let mut hit: Vec<&str> = TEXT_CASES
        .iter()
        .chain(REVIEWED_CASES.iter())
        .flat_map(|(line, _)| shapes_hit(line))
        .collect();
    hit.sort_unstable();
    hit.dedup();
    for s in shapes::SHAPES.iter() {
        assert!(hit.contains(&s.name), "no case for shape {:?}", s.name);
    }
}

/// The literal gate lets through every case any shape matches, and turns away ordinary
/// log text; at most one shape (the 40-character AWS secret, which has no literal) runs
/// on every text.
#[test]
fn the_gate_passes_every_shape_match_and_stops_plain_lines() {
    for (line, _) in TEXT_CASES.iter().chain(REVIEWED_CASES.iter()) {
        if shapes::SET.matches(line).matched_any() {
            assert!(shapes::GATE.may_match(line), "gate hid {line:?}");
        }
    }
    for plain in [
        "2024-06-11T06:13:20.001Z  INFO 1 --- [nio-8080-exec-5] c.e.api.web.OrderController : Fetched 85406 rows in 12 ms",
        "GET /health 200 3ms",
        "Error: getaddrinfo ENOTFOUND db.internal",
    ] {
        assert!(!shapes::GATE.may_match(plain), "{plain:?} passed the gate");
    }
    // The AWS secret shape has no literal; its hint (a 40-character run) lets it by.
    let lone = "x wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY y";
    assert!(shapes::GATE.may_match(lone));
    assert!(redact_text(lone).contains(MARKER));
    assert!(!shapes::GATE.may_match("x wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE y"));
    let bare = shapes::GATE.bare();
    assert!(bare.len() <= 1, "shapes without literals: {bare:?}");
}

/// The key-run hint probes every 40th byte; it must agree with a byte-by-byte count for
/// runs of every length at every offset, between every kind of separator.
#[test]
fn the_key_run_hint_agrees_with_counting_every_byte() {
    let naive = |t: &str| {
        let mut run = 0;
        t.bytes().any(|b| {
            run = if b.is_ascii_alphanumeric() || b == b'/' || b == b'+' {
                run + 1
            } else {
                0
            };
            run >= 40
        })
    };
    for lead in 0..90 {
        for len in [0, 1, 38, 39, 40, 41, 79, 80, 81] {
            for sep in [" ", "=", "é", "\n"] {
                let word = |n: usize| "aB3/+".repeat(20)[..n].to_string();
                let text = format!(
                    "{}{sep}{}{sep}{}",
                    word(lead % 45),
                    word(len),
                    word(lead / 2 % 41)
                );
                assert_eq!(shapes::has_key_run(&text), naive(&text), "{text:?}");
            }
        }
    }
}

const TEXT_CASES: [(&str, &str); 25] = [
    ("PGPASSWORD=Xq7fLeak1 psql -h db", "Xq7fLeak1"),
    ("export DB_PASS=hunter2leak", "hunter2leak"),
    ("\"password\": \"two words leak\"", "two words leak"),
    ("SECRET_KEY_BASE=abcLEAKdef", "abcLEAKdef"),
    ("Authorization: Bearer abc.LEAK.def", "abc.LEAK.def"),
    (
        "authorization=Basic dXNlcjpwYXNzTEVBSw==",
        "dXNlcjpwYXNzTEVBSw==",
    ),
    ("curl -H 'Bearer 9fLEAKz81kq'", "9fLEAKz81kq"),
    (
        "key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end",
        "wJalrXUtnFEMI",
    ),
    (
        "token ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 used",
        "ghp_ABCDEF",
    ),
    (
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
        "11ABCDEFG0",
    ),
    ("charge with sk_live_51LEAKabcdefghij", "sk_live_51"),
    ("slack xoxb-1234567890-LEAKabcdef", "xoxb-12345"),
    (
        "posting to https://hooks.slack.com/services/T000/B000/LEAKxyz",
        "LEAKxyz",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowLEAKbody\n-----END RSA PRIVATE KEY-----",
        "MIIEowLEAKbody",
    ),
    (
        "key=-----BEGIN PRIVATE KEY-----\\nMIIEvQLEAK (cut)",
        "MIIEvQLEAK",
    ),
    ("pg_dump --password Sup3rLeak db", "Sup3rLeak"),
    ("app --api-key=Sup3rLeak2 --verbose", "Sup3rLeak2"),
    ("mysql -u root -pLeakyPw9 shop", "LeakyPw9"),
    ("keytool -storepass LeakStore1 -list", "LeakStore1"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.LEAKsig ok",
        "LEAKsig",
    ),
    (
        "AccessDenied for AKIAIOSFODNN7LEAKXYZ",
        "AKIAIOSFODNN7LEAKXYZ",
    ),
    ("GET /x?X-Amz-Signature=LEAKsig123&a=1", "LEAKsig123"),
    ("GET /cb?access_token=LEAKtok", "LEAKtok"),
    ("AIzaSyLEAK0123456789abcdefghijklmnopqrs", "AIzaSyLEAK"),
    ("sk-proj-LEAKabcdefghijklmnopqrst", "LEAKabcdefg"),
];

#[test]
fn ordinary_log_text_is_left_alone() {
    for line in [
        "FATAL: password authentication failed for user \"app\"",
        "using basic authentication against the proxy",
        "Bearer token expired",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b deployed",
        "--password-stdin was given",
        "aws secretsmanager describe-secret --secret-id prod/api/db",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed",
        "task arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef stopped",
        "connect ECONNREFUSED 10.0.1.5:5432",
        "monkey=banana",
        "to test the login, run `PGPASSWORD=... sickbay db probe`",
        "export PGPASSWORD=$DB_PASSWORD",
        "image supabase-inst-7f3e9d-auth:1 stopped",
    ] {
        assert_eq!(redact_text(line), line);
    }
}

#[test]
fn env_values_by_name_and_by_entropy() {
    for (name, value) in [
        ("DB_PASS", "plainwords"),
        ("REDIS_AUTH", "hello"),
        ("SECRET_KEY_BASE", "abc"),
        ("AWS_SECRET", "y"),
        ("SOME_SETTING", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("UPSTREAM", "q8Zr2LkP0vN5xT7mW3yB6cHd"),
    ] {
        let out = redact_env_value(name, value);
        assert!(out.starts_with(MARKER), "{name}={value} -> {out}");
    }
    for (name, value) in [
        ("PORT", "5432"),
        ("DB_HOST", "db.internal.example.com"),
        ("SUBNET", "subnet-0123456789abcdef0"),
        ("APP_DIR", "/usr/local/lib/app/current/bin"),
        ("ROLE_ARN", "arn:aws:iam::123456789012:role/app"),
        ("MODE", "production_environment_name"),
        ("DATABASE_HOST_PORT", "db:5432"),
    ] {
        assert_eq!(redact_env_value(name, value), value, "{name}");
    }
}

#[test]
fn argv_flags_and_tokens() {
    let mut argv: Vec<String> = [
        "sh",
        "-c",
        "PGPASSWORD=LeakOne psql -h db",
        "--password",
        "LeakTwo",
        "--token=LeakThree",
        "q8Zr2LkP0vN5xT7mW3yB6cHd",
        "--port",
        "5432",
    ]
    .map(String::from)
    .to_vec();
    redact_argv(&mut argv);
    let joined = argv.join(" ");
    for leak in ["LeakOne", "LeakTwo", "LeakThree", "q8Zr2LkP0"] {
        assert!(!joined.contains(leak), "{joined}");
    }
    assert!(joined.contains("--port 5432"), "{joined}");
    let mut mysql: Vec<String> = ["mysqladmin", "-h", "db", "-pLeakPw", "ping"]
        .map(String::from)
        .to_vec();
    redact_argv(&mut mysql);
    assert!(!mysql.join(" ").contains("LeakPw"));
    assert_eq!(mysql[4], "ping");
}

#[test]
fn same_secret_same_fingerprint() {
    assert_eq!(
        redact_env_value("JWT_SECRET", "abc"),
        redact_env_value("GOTRUE_JWT_SECRET", "abc")
    );
    assert_ne!(
        redact_env_value("JWT_SECRET", "abc"),
        redact_env_value("JWT_SECRET", "abd")
    );
}

#[test]
fn redaction_is_idempotent() {
    let once = redact_text(
        "password=hunter2 token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig AKIAABCDEFGHIJKLMNOP Authorization: Bearer abc123def PGPASSWORD=x1",
    );
    let twice = redact_text(&once).into_owned();
    assert_eq!(once, twice);
    assert!(!once.contains("hunter2") && !once.contains("AKIAABCD") && !once.contains("eyJzdWIi"));
}

#[test]
fn location_names_are_not_secret() {
    assert!(!is_secret_name("SUPABASE_AUTH_URL"));
    assert!(is_secret_name("SERVICE_ROLE_KEY"));
    assert!(is_secret_name("PG_META_DB_PASSWORD"));
    assert!(is_secret_name("DB_PASS"));
    assert!(!is_secret_name("PG_META_DB_HOST"));
    assert!(!is_secret_name("monkey"));
}

#[test]
fn walk_covers_unknown_fields_env_pairs_maps_and_argv() {
    let mut v = serde_json::json!({
        "some_future_field": "postgres://u:LeakA@h/db",
        "environment": [{"name": "DB_PASS", "value": "LeakB"}],
        "options": {"splunk-token": "LeakC", "awslogs-group": "/ecs/api"},
        "command": ["app", "--password", "LeakD"],
        "nested": [["Authorization: Bearer LeakE123"]],
    });
    walk::redact_value(&mut v);
    let text = v.to_string();
    for leak in ["LeakA", "LeakB", "LeakC", "LeakD", "LeakE"] {
        assert!(!text.contains(leak), "{text}");
    }
    assert!(text.contains("/ecs/api"), "{text}");
}

/// Shapes a review found leaking: escaped JSON, punctuation in passwords, dumps of Go,
/// Ruby, XML and .NET, name/value pairs in text, cookies, bot URLs, more providers.
#[test]
fn reviewed_leaks_are_caught() {
    for (line, secret) in REVIEWED_CASES {
        let out = redact_text(line);
        assert!(!out.contains(secret), "{line:?} -> {out}");
    }
}

const REVIEWED_CASES: [(&str, &str); 16] = [
    (
        r#"config={\"host\":\"db\",\"password\":\"Zq8LeakXy7\"}"#,
        "Zq8LeakXy7",
    ),
    (
        r#""SecretString": "{\"username\":\"app\",\"password\":\"Zq8LeakXy7\"}""#,
        "Zq8LeakXy7",
    ),
    ("DB_PASSWORD=k3J9,vP2mQ8xLr7TzW4nB", "vP2mQ8xLr7TzW4nB"),
    ("PGPASSWORD=k3J9;vP2mQ8xLr7TzW4nB psql", "vP2mQ8xLr7TzW4nB"),
    (
        "cfg: &{Host:db User:app Password:Zq8LeakXy7 DBName:app}",
        "Zq8LeakXy7",
    ),
    (r#"{"user"=>"app", "password"=>"Zq8LeakXy7"}"#, "Zq8LeakXy7"),
    ("<password>Zq8LeakXy7</password>", "Zq8LeakXy7"),
    (
        r#"<add key="DbPassword" value="Zq8LeakXy7"/>"#,
        "Zq8LeakXy7",
    ),
    (
        r#"env=[{"name":"DB_PASSWORD","value":"Zq8LeakXy7"}]"#,
        "Zq8LeakXy7",
    ),
    (
        "environment: [{name=DB_PASSWORD, value=Zq8LeakXy7}]",
        "Zq8LeakXy7",
    ),
    ("Cookie: JSESSIONID=Zq8LeakXy7abc", "Zq8LeakXy7"),
    (
        "POST https://api.telegram.org/bot7412345678:AAHZq8LeakXy7abcdefghijklmnopqrstu/getUpdates",
        "Zq8LeakXy7",
    ),
    (
        "DefaultEndpointsProtocol=https;AccountKey=Zq8LeakXy7abc==;EndpointSuffix=core",
        "Zq8LeakXy7",
    ),
    ("VAULT_TOKEN hvs.CAESIZq8LeakXy7abcdefghijkl", "Zq8LeakXy7"),
    (
        "postgresql://app:Zq8LeakXy7@/db?host=/var/run/postgresql",
        "Zq8LeakXy7",
    ),
    ("Authorization: Bearer Zq8Leak,Xy7", "Xy7"),
];

/// Evidence a review found destroyed: it must survive redaction unchanged.
#[test]
fn reviewed_evidence_is_kept() {
    for line in [
        "Access denied for user ''@'172.21.0.7' (using password: NO)",
        "Access denied for user 'app'@'10.0.1.5' (using password: YES)",
        "unexpected status from GET request to https://ghcr.io/token: 401 Unauthorized",
        "may require authorization: server message: insufficient_scope: authorization failed",
        "Primary key: 42",
        "secret: 3 retries left",
        "api_key: 12 characters",
        "max_tokens=4096",
        "token_expires_in: 3600",
        "redis key=session:1234",
        "ssl_key=/etc/ssl/private/key.pem",
        "public_key=ssh-rsa AAAAB3NzaC1yc2E",
        "token_endpoint=https://auth.example.com/oauth/token",
        "api-token:3 failed to start",
    ] {
        assert_eq!(redact_text(line), line);
    }
    for (name, value) in [
        (
            "DB_SECRET",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
        ),
        ("KMS_KEY", "arn:aws:kms:us-east-1:123456789012:key/abc"),
        ("MAX_TOKENS", "4096"),
        ("SSL_KEY", "/etc/ssl/private/server.key"),
        ("CACHE_KEY", "v2"),
        ("PWD", "/home/app"),
        ("TOKEN_EXPIRES_IN", "3600"),
    ] {
        assert_eq!(redact_env_value(name, value), value, "{name}");
    }
    for (name, value) in [
        ("DB_PW", "Zq8LeakXy7"),
        ("PGPASS", "short"),
        ("ADMIN_CREDS", "admin:pw"),
    ] {
        assert!(redact_env_value(name, value).starts_with(MARKER), "{name}");
    }
}
