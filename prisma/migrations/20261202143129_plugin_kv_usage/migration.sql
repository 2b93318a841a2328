-- CreateTable
CREATE TABLE "plugin_kv_usage" (
    "tenant_id" UUID NOT NULL,
    "plugin_id" UUID NOT NULL,
    "keys" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "plugin_kv_usage_pkey" PRIMARY KEY ("tenant_id","plugin_id")
);

-- AddForeignKey
ALTER TABLE "plugin_kv_usage" ADD CONSTRAINT "plugin_kv_usage_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The counts of what is stored already. Writers wait until the triggers below exist (the migration's transaction
-- ends), so no key is added or removed between the count and the triggers that keep it.
LOCK TABLE "plugin_kv" IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO "plugin_kv_usage" ("tenant_id", "plugin_id", "keys")
SELECT "tenant_id", "plugin_id", count(*) FROM "plugin_kv" GROUP BY "tenant_id", "plugin_id";

-- Every key added or removed, by any statement (a plugin's call, the retention sweep, a tenant's deletion), counts.
CREATE FUNCTION plugin_kv_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO plugin_kv_usage AS usage (tenant_id, plugin_id, keys)
  SELECT tenant_id, plugin_id, count(*) FROM added GROUP BY tenant_id, plugin_id
  ON CONFLICT (tenant_id, plugin_id) DO UPDATE SET keys = usage.keys + EXCLUDED.keys;
  RETURN NULL;
END $$;
CREATE TRIGGER plugin_kv_count_added AFTER INSERT ON plugin_kv
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION plugin_kv_count_added();

CREATE FUNCTION plugin_kv_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE plugin_kv_usage AS usage SET keys = usage.keys - gone.keys
    FROM (SELECT tenant_id, plugin_id, count(*) AS keys FROM removed GROUP BY tenant_id, plugin_id) AS gone
   WHERE usage.tenant_id = gone.tenant_id AND usage.plugin_id = gone.plugin_id;
  RETURN NULL;
END $$;
CREATE TRIGGER plugin_kv_count_removed AFTER DELETE ON plugin_kv
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION plugin_kv_count_removed();

-- Stores a plugin's value. A key it holds already is written at once; a new one is added only while the plugin holds
-- fewer than max_keys, checked and added under the lock of its count, so calls running at once cannot pass the limit
-- together. False when the key was not stored.
CREATE FUNCTION plugin_kv_set(p_tenant UUID, p_plugin UUID, p_key VARCHAR, p_value BYTEA, p_max_keys INTEGER) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE held INTEGER;
BEGIN
  UPDATE plugin_kv SET value = p_value, updated_at = now() WHERE tenant_id = p_tenant AND plugin_id = p_plugin AND key = p_key;
  IF FOUND THEN RETURN TRUE; END IF;
  -- The count's row is made if missing, then locked; made again if the retention sweep removed it in between.
  LOOP
    INSERT INTO plugin_kv_usage (tenant_id, plugin_id) VALUES (p_tenant, p_plugin) ON CONFLICT DO NOTHING;
    SELECT keys INTO held FROM plugin_kv_usage WHERE tenant_id = p_tenant AND plugin_id = p_plugin FOR UPDATE;
    EXIT WHEN FOUND;
  END LOOP;
  IF held < p_max_keys THEN
    INSERT INTO plugin_kv (tenant_id, plugin_id, key, value, updated_at) VALUES (p_tenant, p_plugin, p_key, p_value, now())
      ON CONFLICT (tenant_id, plugin_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();
    RETURN TRUE;
  END IF;
  -- At the limit, a key another call added meanwhile can still be written.
  UPDATE plugin_kv SET value = p_value, updated_at = now() WHERE tenant_id = p_tenant AND plugin_id = p_plugin AND key = p_key;
  RETURN FOUND;
END $$;

-- Removes a plugin's key, taking its count's lock first as plugin_kv_set does. Whatever else deletes keys takes
-- the counts' locks first too (the retention sweep), or is alone on them (a tenant's deletion): one order, no deadlock.
-- Returns how many keys it removed (0 or 1).
CREATE FUNCTION plugin_kv_delete(p_tenant UUID, p_plugin UUID, p_key VARCHAR) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE removed INTEGER;
BEGIN
  PERFORM 1 FROM plugin_kv_usage WHERE tenant_id = p_tenant AND plugin_id = p_plugin FOR UPDATE;
  DELETE FROM plugin_kv WHERE tenant_id = p_tenant AND plugin_id = p_plugin AND key = p_key;
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END $$;
