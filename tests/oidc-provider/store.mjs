// An in-memory oidc-provider adapter whose records can be listed, so the test endpoints can
// find a subject's sessions and grants (the bundled MemoryAdapter hides them in an LRU).
// Expired records are dropped lazily on read; everything is lost when the process exits.

const models = new Map(); // model name → Map(id → { payload, expiresAt })

const now = () => Math.floor(Date.now() / 1000);

function table(name) {
  if (!models.has(name)) models.set(name, new Map());
  return models.get(name);
}

/** Every live payload of a model, with its id. */
export function entries(name) {
  const out = [];
  for (const [id, record] of table(name)) {
    if (record.expiresAt !== undefined && record.expiresAt <= now()) {
      table(name).delete(id);
    } else {
      out.push([id, record.payload]);
    }
  }
  return out;
}

/** Removes every record of every model that belongs to the grant. */
export function revokeGrant(grantId) {
  for (const records of models.values()) {
    for (const [id, { payload }] of records) {
      if (payload.grantId === grantId) records.delete(id);
    }
  }
  table('Grant').delete(grantId);
}

export class Store {
  constructor(name) {
    this.name = name;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? now() + expiresIn : undefined;
    table(this.name).set(id, { payload: structuredClone(payload), expiresAt });
  }

  async find(id) {
    const record = table(this.name).get(id);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= now()) {
      table(this.name).delete(id);
      return undefined;
    }
    return structuredClone(record.payload);
  }

  async findByUid(uid) {
    const hit = entries(this.name).find(([, payload]) => payload.uid === uid);
    return hit ? structuredClone(hit[1]) : undefined;
  }

  async findByUserCode(userCode) {
    const hit = entries(this.name).find(([, payload]) => payload.userCode === userCode);
    return hit ? structuredClone(hit[1]) : undefined;
  }

  async consume(id) {
    const record = table(this.name).get(id);
    if (record) record.payload.consumed = now();
  }

  async destroy(id) {
    table(this.name).delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const [id, { payload }] of table(this.name)) {
      if (payload.grantId === grantId) table(this.name).delete(id);
    }
  }
}
