-- AlterTable
ALTER TABLE "invocations" ADD COLUMN     "trace_id" CHAR(32);

-- CreateTable
CREATE TABLE "spans" (
    "span_id" CHAR(16) NOT NULL,
    "trace_id" CHAR(32) NOT NULL,
    "parent_span_id" CHAR(16),
    "tenant_id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "start_time" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" DOUBLE PRECISION NOT NULL,
    "status" VARCHAR(8) NOT NULL,
    "status_message" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "spans_pkey" PRIMARY KEY ("span_id")
);

-- CreateIndex
CREATE INDEX "spans_tenant_id_trace_id_idx" ON "spans"("tenant_id", "trace_id");

-- CreateIndex
CREATE INDEX "spans_start_time_idx" ON "spans"("start_time");

-- AddForeignKey
ALTER TABLE "spans" ADD CONSTRAINT "spans_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
