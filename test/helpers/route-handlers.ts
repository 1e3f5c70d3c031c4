import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { AUDIT_ROUTE, AuditRoute } from '../../src/audit/audit-context';
import { TestApp } from './app';

export interface RouteHandler {
  /** 'METHOD /path/{param}', as the OpenAPI document names it. */
  route: string;
  controller: new () => object;
  handler: (...args: unknown[]) => unknown;
}

/** Every handler of every controller of the application, with its route. */
export function routeHandlers(t: TestApp): RouteHandler[] {
  const out: RouteHandler[] = [];
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
        out.push({
          route: `${RequestMethod[method]} ${path}`,
          controller,
          handler: handler as RouteHandler['handler'],
        });
      }
    }
  }
  return out;
}

/** 'METHOD /path/{param}' of every handler of every controller, with its audit declaration. */
export function routeDeclarations(t: TestApp): Map<string, AuditRoute | undefined> {
  return new Map(
    routeHandlers(t).map(({ route, handler }) => [
      route,
      Reflect.getMetadata(AUDIT_ROUTE, handler) as AuditRoute | undefined,
    ]),
  );
}

/** The routes that change something: what the audit log must account for. */
export const WRITE = /^(POST|PUT|PATCH|DELETE) \/(v1|platform\/v1)\//;
