-- CreateTable
CREATE TABLE "plugin_kv" (
    "tenant_id" UUID NOT NULL,
    "plugin_id" UUID NOT NULL,
    "key" VARCHAR(1024) NOT NULL,
    "value" BYTEA NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "plugin_kv_pkey" PRIMARY KEY ("tenant_id","plugin_id","key")
);

-- AddForeignKey
ALTER TABLE "plugin_kv" ADD CONSTRAINT "plugin_kv_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
