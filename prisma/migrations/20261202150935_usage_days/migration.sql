-- CreateTable
CREATE TABLE "usage_days" (
    "tenant_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "status" VARCHAR(32) NOT NULL,
    "invocations" INTEGER NOT NULL,
    "fuel" BIGINT NOT NULL,
    "run_ms" DOUBLE PRECISION NOT NULL,
    "egress_bytes" BIGINT NOT NULL,

    CONSTRAINT "usage_days_pkey" PRIMARY KEY ("tenant_id","day","status")
);

-- AddForeignKey
ALTER TABLE "usage_days" ADD CONSTRAINT "usage_days_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
