-- CreateTable
CREATE TABLE "plugins" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "description" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "plugins_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plugin_versions" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "plugin_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "wasm" BYTEA NOT NULL,
    "exports" JSONB NOT NULL,
    "imports" JSONB NOT NULL,
    "permissions" JSONB NOT NULL,
    "source_language" VARCHAR(32),
    "source" JSONB,
    "tests" JSONB NOT NULL DEFAULT '[]',
    "status" VARCHAR(16) NOT NULL DEFAULT 'draft',
    "published_at" TIMESTAMPTZ(3),
    "created_by" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plugin_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bindings" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "event" VARCHAR(100) NOT NULL,
    "plugin_id" UUID NOT NULL,
    "version" INTEGER,
    "export_name" VARCHAR(200) NOT NULL,
    "config" JSONB NOT NULL DEFAULT '{}',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "bindings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "plugins_tenant_id_created_at_idx" ON "plugins"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "plugin_versions_tenant_id_idx" ON "plugin_versions"("tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "plugin_versions_plugin_id_number_key" ON "plugin_versions"("plugin_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "plugin_versions_plugin_id_sha256_key" ON "plugin_versions"("plugin_id", "sha256");

-- CreateIndex
CREATE INDEX "bindings_tenant_id_event_idx" ON "bindings"("tenant_id", "event");

-- CreateIndex
CREATE INDEX "bindings_plugin_id_idx" ON "bindings"("plugin_id");

-- AddForeignKey
ALTER TABLE "plugins" ADD CONSTRAINT "plugins_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plugin_versions" ADD CONSTRAINT "plugin_versions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plugin_versions" ADD CONSTRAINT "plugin_versions_plugin_id_fkey" FOREIGN KEY ("plugin_id") REFERENCES "plugins"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bindings" ADD CONSTRAINT "bindings_plugin_id_fkey" FOREIGN KEY ("plugin_id") REFERENCES "plugins"("id") ON DELETE CASCADE ON UPDATE CASCADE;
