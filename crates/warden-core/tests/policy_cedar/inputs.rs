//! Random identities and requests for the differential test.

use super::*;

/// One random identity and request.
#[derive(Debug, Clone)]
pub(super) struct Case {
    pub(super) identity: Identity,
    pub(super) method: &'static str,
    pub(super) host: &'static str,
    pub(super) path: String,
    pub(super) tenant: &'static str,
    pub(super) item: &'static str,
    pub(super) headers: Vec<(String, String)>,
    pub(super) query: String,
    pub(super) client: IpAddr,
    pub(super) now: u64,
}

impl Case {
    pub(super) fn judge(&self, conditions: &Conditions) -> Result<bool, String> {
        let params = [("tenant", self.tenant), ("item", self.item)];
        let input = Input {
            identity: Some(&self.identity),
            method: self.method,
            path: &self.path,
            host: self.host,
            params: &params,
            headers: &self.headers,
            query: &self.query,
            client: self.client,
            now: self.now,
        };
        match conditions.judge(&input) {
            Ok(()) => Ok(true),
            Err(Unmet::Failed { .. }) => Ok(false),
            Err(Unmet::Error { message, .. }) => Err(message),
        }
    }
}

pub(super) const WORDS: [&str; 10] = [
    "acme", "globex", "", "ACME", "4é", "*a", "a*e", "42", "west", "admin",
];

pub(super) fn word() -> impl Strategy<Value = &'static str> {
    select(&WORDS[..])
}

/// Any JSON a token may carry where a claim is expected, nested a little.
pub(super) fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..8).prop_map(Value::from),
        select(&[i64::MAX, i64::MIN, i64::MAX - 1, 1_000_000_000_000][..]).prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        select(&[2.5, 3.0, -0.0, 1e300][..])
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        word().prop_map(Value::from),
        select(&["mfa", "pwd", "otp", "admin"][..]).prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((select(&["id", "region", "zone", "x"][..]), inner), 0..4)
                .prop_map(|fields| Value::Object(
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
        ]
    })
}

/// Mostly of the declared type, sometimes anything.
pub(super) fn typed(right: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Value> {
    prop_oneof![3 => right, 1 => any_json()]
}

pub(super) fn long() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-3i64..8).prop_map(Value::from),
        1 => select(&[i64::MAX, i64::MIN, 1_700_000_000][..]).prop_map(Value::from),
    ]
}

pub(super) fn amr() -> impl Strategy<Value = Value> {
    prop::collection::vec(select(&["pwd", "mfa", "otp", "admin", "acme"][..]), 0..4)
        .prop_map(|items| Value::Array(items.into_iter().map(Value::from).collect()))
}

pub(super) fn region() -> impl Strategy<Value = Value> {
    select(&["eu", "us"][..]).prop_map(Value::from)
}

/// An object with the given members, each present most of the time.
pub(super) fn object(
    members: Vec<(&'static str, BoxedStrategy<Value>)>,
) -> impl Strategy<Value = Value> + 'static {
    members
        .into_iter()
        .map(|(name, s)| prop::option::weighted(0.85, s).prop_map(move |v| (name, v)))
        .collect::<Vec<_>>()
        .prop_map(|fields| {
            let map: Map<String, Value> = (fields.into_iter())
                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                .collect();
            Value::Object(map)
        })
}

pub(super) fn org() -> impl Strategy<Value = Value> {
    let geo = object(vec![
        ("zone", typed(word().prop_map(Value::from)).boxed()),
        ("x", any_json().boxed()),
    ]);
    object(vec![
        ("id", typed(long()).boxed()),
        ("region", typed(region()).boxed()),
        ("geo", typed(geo).boxed()),
        ("extra", any_json().boxed()),
    ])
}

pub(super) fn claims() -> impl Strategy<Value = Option<Value>> {
    let all = object(vec![
        ("tenant", typed(word().prop_map(Value::from)).boxed()),
        ("amr", typed(amr()).boxed()),
        ("level", typed(long()).boxed()),
        ("staff", typed(any::<bool>().prop_map(Value::Bool)).boxed()),
        ("org", typed(org()).boxed()),
        ("undeclared", any_json().boxed()),
    ]);
    prop::option::weighted(0.9, all)
}

pub(super) const METHODS: [AuthMethod; 6] = [
    AuthMethod::Jwt,
    AuthMethod::Basic,
    AuthMethod::Session,
    AuthMethod::ApiKey,
    AuthMethod::Oidc,
    AuthMethod::Introspection,
];

pub(super) fn identity() -> impl Strategy<Value = Identity> {
    let names = |pool: &'static [&'static str]| {
        prop::collection::vec(select(pool).prop_map(str::to_owned), 0..4)
    };
    let auth_time = prop_oneof![
        0u64..2_000_000_000,
        (i64::MAX as u64 - 400)..=(i64::MAX as u64)
    ];
    (
        select(&["alice", "bob", "", "a*e", "ané"][..]),
        names(&["admin", "billing", "ops", "mfa"]),
        names(&["read", "write", "reports:read"]),
        select(&METHODS[..]),
        prop::option::of(select(&["mfa", "pwd", "urn:x"][..])),
        prop::option::of(auth_time),
        claims(),
    )
        .prop_map(
            |(subject, roles, scopes, method, acr, auth_time, claims)| Identity {
                subject: subject.to_owned(),
                roles,
                scopes,
                method,
                acr: acr.map(str::to_owned),
                auth_time,
                claims: claims.and_then(|c| c.as_object().cloned()).map(Arc::new),
            },
        )
}

pub(super) fn client() -> impl Strategy<Value = IpAddr> {
    let v4 = [
        "10.1.2.3",
        "10.255.255.255",
        "11.0.0.0",
        "127.0.0.1",
        "127.255.0.9",
        "224.0.0.1",
        "239.1.2.3",
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
    ];
    let v6 = [
        "::1",
        "::",
        "ff02::1",
        "ff00::",
        "2001:db8::1",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::",
        "fe80::1",
        "::ffff:10.1.2.3",
        "::ffff:127.0.0.1",
        "::127.0.0.1",
    ];
    let known: Vec<IpAddr> = v4.iter().chain(&v6).map(|s| s.parse().unwrap()).collect();
    prop_oneof![
        3 => select(known),
        1 => any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        1 => any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
    ]
}

/// A raw query string: names and values plain, percent-encoded or with `+`, repeated,
/// without `=`, with empty pieces.
pub(super) fn query() -> impl Strategy<Value = String> {
    let key = select(
        &[
            "format", "form%61t", "tenant", "a+b", "a%20b", "x", "%C3%A9", "", "acme", "%zz",
        ][..],
    );
    let value = select(&["csv", "tsv", "%63sv", "pdf", "acme", "1", "", "a+b", "%2A"][..]);
    let piece = prop_oneof![
        3 => (key.clone(), value).prop_map(|(k, v)| format!("{k}={v}")),
        1 => key.prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.join("&"))
}

pub(super) fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let names = ["x-tenant", "x-level", "x-empty", "x-other"];
    prop::collection::vec(prop::option::of(word()), names.len()).prop_map(move |values| {
        (names.iter().zip(values))
            .filter_map(|(n, v)| Some(((*n).to_owned(), v?.to_owned())))
            .collect()
    })
}

pub(super) fn case() -> impl Strategy<Value = Case> {
    let now = prop_oneof![
        0u64..4_000_000_000,
        1_700_000_000u64..1_701_000_000,
        Just(i64::MAX as u64),
    ];
    let request = (
        select(&["GET", "POST", "DELETE", "HEAD", "get"][..]),
        select(&["api.example", "www.example.com", "", "example", "é.example"][..]),
        (word(), word(), any::<bool>()),
        headers(),
        query(),
        client(),
        now,
    );
    (identity(), request).prop_map(
        |(identity, (method, host, (tenant, item, long_path), headers, query, client, now))| {
            let path = if long_path {
                format!("/c1/{tenant}/items/{item}")
            } else {
                format!("/t/{tenant}")
            };
            Case {
                identity,
                method,
                host,
                path,
                tenant,
                item,
                headers,
                query,
                client,
                now,
            }
        },
    )
}
