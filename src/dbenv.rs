//! One decision for "does this environment variable locate a database?", shared by the
//! facts (a URL and per-field variables that disagree, for `doctor` and `lint` alike)
//! and the probe's discovery, so that they cannot disagree. A variable is a database
//! setting when its name is a known database prefix plus a field suffix (`DB_HOST`,
//! `PGHOST`, `POSTGRES_DB`, `RDS_HOSTNAME`, `MYSQL_PORT`, Supabase's `PG_META_DB_HOST`),
//! or when its value is a database URL (`postgres://`, `mysql://`, `jdbc:...`).

/// The part of a connection a per-field variable sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DbField {
    Host,
    HostAddr,
    Port,
    Name,
    User,
    Password,
    SslMode,
    Url,
}

/// Longest suffixes first: `HOSTNAME` before `NAME`, `DBNAME` before `NAME`.
const SUFFIXES: &[(&str, DbField)] = &[
    ("HOSTADDR", DbField::HostAddr),
    ("HOSTNAME", DbField::Host),
    ("HOST", DbField::Host),
    ("SERVER", DbField::Host),
    ("PORT", DbField::Port),
    ("DATABASE", DbField::Name),
    ("DBNAME", DbField::Name),
    ("NAME", DbField::Name),
    ("DB", DbField::Name),
    ("USERNAME", DbField::User),
    ("USER", DbField::User),
    ("PASSWORD", DbField::Password),
    ("PASS", DbField::Password),
    ("PWD", DbField::Password),
    ("SSLMODE", DbField::SslMode),
    ("URL", DbField::Url),
    ("URI", DbField::Url),
];

/// Prefixes that on their own name a database (`PG` as in `PGHOST`).
const PREFIXES: &[&str] = &[
    "PG",
    "PG_",
    "POSTGRES_",
    "POSTGRESQL_",
    "DATABASE_",
    "DB_",
    "RDS_",
    "RDS_DB_",
    "MYSQL_",
    "MARIADB_",
];

/// Endings of longer prefixes that name a database (`PG_META_DB_`, `ORDERS_DATABASE_`).
const PREFIX_ENDINGS: &[&str] = &["_DB_", "_DATABASE_", "_PG_", "_POSTGRES_", "_MYSQL_"];

/// Splits a variable name into (group key, field) when it is a database setting.
/// Variables with the same key configure the same connection: `DB_HOST` and
/// `DATABASE_HOST`, `RDS_DB_NAME` and `RDS_HOSTNAME` belong together.
pub fn db_field(name: &str) -> Option<(String, DbField)> {
    let upper = name.to_ascii_uppercase();
    SUFFIXES.iter().find_map(|(suffix, field)| {
        let prefix = upper.strip_suffix(suffix)?;
        let known =
            PREFIXES.contains(&prefix) || PREFIX_ENDINGS.iter().any(|e| prefix.ends_with(e));
        known.then(|| {
            let key = prefix
                .strip_suffix("DB_")
                .or_else(|| prefix.strip_suffix("DATABASE_"))
                .unwrap_or(prefix);
            (key.to_string(), *field)
        })
    })
}

/// A per-field variable that names a database host (`DB_HOST`, `PGHOSTADDR`).
pub fn is_db_host_var(name: &str) -> bool {
    matches!(db_field(name), Some((_, DbField::Host | DbField::HostAddr)))
}

/// The URL scheme of a database URL value (`postgres`, `mysql` ...), `jdbc:` removed.
pub fn db_url_scheme(value: &str) -> Option<&'static str> {
    const SCHEMES: &[(&str, &str)] = &[
        ("postgres://", "postgres"),
        ("postgresql://", "postgres"),
        ("mysql://", "mysql"),
        ("mariadb://", "mysql"),
    ];
    let v = value.trim().to_ascii_lowercase();
    let v = v.strip_prefix("jdbc:").unwrap_or(&v);
    SCHEMES
        .iter()
        .find(|(p, _)| v.starts_with(p))
        .map(|(_, s)| *s)
}

/// A value that is a PostgreSQL URL (`postgres://`, `postgresql://`, `jdbc:postgresql://`).
pub fn is_pg_url(value: &str) -> bool {
    db_url_scheme(value) == Some("postgres")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names() {
        assert_eq!(db_field("DB_HOST"), Some((String::new(), DbField::Host)));
        assert_eq!(
            db_field("DATABASE_NAME"),
            Some((String::new(), DbField::Name))
        );
        assert_eq!(db_field("PGHOST"), Some(("PG".into(), DbField::Host)));
        assert_eq!(db_field("PGDATABASE"), Some(("PG".into(), DbField::Name)));
        assert_eq!(
            db_field("POSTGRES_DB"),
            Some(("POSTGRES_".into(), DbField::Name))
        );
        assert_eq!(
            db_field("PG_META_DB_HOST"),
            Some(("PG_META_".into(), DbField::Host))
        );
        assert_eq!(
            db_field("PG_META_DB_NAME"),
            Some(("PG_META_".into(), DbField::Name))
        );
        assert_eq!(
            db_field("RDS_HOSTNAME"),
            Some(("RDS_".into(), DbField::Host))
        );
        assert_eq!(
            db_field("RDS_DB_NAME"),
            Some(("RDS_".into(), DbField::Name))
        );
        assert_eq!(
            db_field("MYSQL_HOST"),
            Some(("MYSQL_".into(), DbField::Host))
        );
        assert_eq!(db_field("APP_HOST"), None);
        assert_eq!(db_field("REDIS_HOST"), None);
        assert_eq!(db_field("MONGODB_HOST"), None);
        assert!(is_db_host_var("pghostaddr"));
        assert!(!is_db_host_var("DB_PORT"));
    }

    #[test]
    fn url_values() {
        assert!(is_pg_url(" jdbc:postgresql://h/db"));
        assert!(is_pg_url("POSTGRES://h"));
        assert_eq!(db_url_scheme("mariadb://h/x"), Some("mysql"));
        assert_eq!(db_url_scheme("redis://h"), None);
        assert!(!is_pg_url("mysql://h"));
    }
}
