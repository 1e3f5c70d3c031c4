import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { AUDIT_ROUTE, AuditRoute } from '../../src/audit/audit-context';
import { TestApp } from './app';

/** 'METHOD /path/{param}' of every handler of every controller, with its audit declaration. */
export function routeDeclarations(t: TestApp): Map<string, AuditRoute | undefined> {
  const out = new Map<string, AuditRoute | undefined>();
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new () => object) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`
          .replace(/\/+/g, '/')
          .replace(/:(\w+)/g, '{$1}');
        const declared = Reflect.getMetadata(AUDIT_ROUTE, handler) as AuditRoute | undefined;
        out.set(`${RequestMethod[method]} ${path}`, declared);
      }
    }
  }
  return out;
}

/** The routes that change something: what the audit log must account for. */
export const WRITE = /^(POST|PUT|PATCH|DELETE) \/(v1|platform\/v1)\//;
