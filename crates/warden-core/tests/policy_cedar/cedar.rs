//! The same request as Cedar data, following warden's data model.

use super::*;

pub(super) fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
}

pub(super) fn string(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_owned())
}

pub(super) fn strings(items: &[String]) -> RestrictedExpression {
    RestrictedExpression::new_set(items.iter().map(|s| string(s)))
}

pub(super) fn record(fields: Vec<(String, RestrictedExpression)>) -> RestrictedExpression {
    RestrictedExpression::new_record(fields).unwrap()
}

/// A claim as Cedar data: `null` and numbers that are not Longs are absent, arrays are
/// sets, a declared record keeps its declared fields, any other object all its members.
pub(super) fn cedar_json(v: &Value, ty: Ty) -> Option<RestrictedExpression> {
    Some(match (v, ty) {
        (Value::Null, _) => return None,
        (Value::Bool(b), _) => RestrictedExpression::new_bool(*b),
        (Value::Number(n), _) => RestrictedExpression::new_long(n.as_i64()?),
        (Value::String(s), _) => string(s),
        (Value::Array(items), _) => {
            RestrictedExpression::new_set(items.iter().filter_map(|i| cedar_json(i, Ty::Value)))
        }
        (Value::Object(m), Ty::Record(declared)) => record(
            (declared.iter())
                .filter_map(|(n, t)| Some(((*n).to_owned(), cedar_json(m.get(*n)?, *t)?)))
                .collect(),
        ),
        (Value::Object(m), Ty::Value) => record(
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), cedar_json(v, Ty::Value)?)))
                .collect(),
        ),
    })
}

/// An address as Cedar's `ip()` reads it: IPv6 in full hex groups, since Cedar refuses the
/// dotted form of an IPv4-mapped address.
pub(super) fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => {
            let groups: Vec<String> = a.segments().iter().map(|g| format!("{g:x}")).collect();
            groups.join(":")
        }
    }
}

/// The request as Cedar entities and a context (the action is per condition).
pub(super) struct CedarCase {
    pub(super) principal: EntityUid,
    pub(super) resource: EntityUid,
    pub(super) entities: Entities,
    pub(super) context: Vec<(String, RestrictedExpression)>,
}

impl CedarCase {
    pub(super) fn new(c: &Case) -> Self {
        let id = &c.identity;
        let principal = uid("Warden::Identity", &id.subject);
        let headers = uid("Warden::Headers", "");
        let query = uid("Warden::Query", "");
        let resource = uid("Warden::Request", "");
        let empty = serde_json::Map::new();
        let token = id.claims.as_deref().unwrap_or(&empty);
        let claims = cedar_json(&Value::Object(token.clone()), Ty::Record(CLAIMS)).unwrap();
        let mut attrs = vec![
            ("subject".to_owned(), string(&id.subject)),
            ("roles".to_owned(), strings(&id.roles)),
            ("scopes".to_owned(), strings(&id.scopes)),
            ("method".to_owned(), string(id.method.as_str())),
            ("claims".to_owned(), claims),
        ];
        if let Some(acr) = &id.acr {
            attrs.push(("acr".to_owned(), string(acr)));
        }
        if let Some(t) = id.auth_time {
            let t = i64::try_from(t).unwrap();
            attrs.push(("auth_time".to_owned(), RestrictedExpression::new_long(t)));
        }
        let header_tags = c.headers.iter().map(|(k, v)| (k.clone(), string(v)));
        let mut query_tags: Vec<(String, RestrictedExpression)> = Vec::new();
        for (k, v) in form_urlencoded::parse(c.query.as_bytes()) {
            if !query_tags.iter().any(|(n, _)| *n == k) {
                query_tags.push((k.into_owned(), string(&v)));
            }
        }
        let none = || std::iter::empty::<(String, RestrictedExpression)>();
        let entities = Entities::from_entities(
            [
                Entity::new_with_tags(principal.clone(), attrs, [], none()).unwrap(),
                Entity::new_with_tags(headers.clone(), none(), [], header_tags).unwrap(),
                Entity::new_with_tags(query.clone(), none(), [], query_tags).unwrap(),
                Entity::new_with_tags(resource.clone(), none(), [], none()).unwrap(),
            ],
            None,
        )
        .unwrap();
        let now = i64::try_from(c.now).unwrap();
        let long = RestrictedExpression::new_long;
        let params = record(vec![
            ("tenant".to_owned(), string(c.tenant)),
            ("item".to_owned(), string(c.item)),
        ]);
        let context = vec![
            ("method".to_owned(), string(c.method)),
            ("path".to_owned(), string(&c.path)),
            ("host".to_owned(), string(c.host)),
            ("params".to_owned(), params),
            (
                "client".to_owned(),
                RestrictedExpression::new_ip(ip_text(c.client)),
            ),
            ("now".to_owned(), long(now)),
            ("hour".to_owned(), long(now / 3600 % 24)),
            ("weekday".to_owned(), long((now / 86_400 + 3) % 7 + 1)),
            (
                "headers".to_owned(),
                RestrictedExpression::new_entity_uid(headers),
            ),
            (
                "query".to_owned(),
                RestrictedExpression::new_entity_uid(query),
            ),
        ];
        Self {
            principal,
            resource,
            entities,
            context,
        }
    }

    /// Cedar's verdict on `expr` under the rule `action`.
    pub(super) fn eval(&self, action: &str, expr: &Expression) -> Result<bool, String> {
        let context = Context::from_pairs(self.context.clone()).unwrap();
        let request = Request::new(
            self.principal.clone(),
            uid("Warden::Action", action),
            self.resource.clone(),
            context,
            None,
        )
        .unwrap();
        match eval_expression(&request, &self.entities, expr) {
            Ok(EvalResult::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("not a boolean: {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }
}
