-- AlterTable
ALTER TABLE "bindings" ADD COLUMN     "secret_names" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "secrets" TEXT;
