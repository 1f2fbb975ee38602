/**
 * Strings only the close-inspection page uses, merged into the shared i18n resources at start-up
 * (the shared locales stay the single source for everything both pages show, e.g. the panel).
 */
export const inspectZh = {
  inspect: {
    title: "近景查看",
    back: "← 返回三维场景",
    backTitle: "回到 Cesium 城市三维场景",
    reset: "复位",
    resetTitle: "复位视角",
    hint: "左键旋转 · 右键平移 · 滚轮缩放 · 单击构件查看属性",
    loading: "模型加载中…",
    ready: "模型已就绪",
    noLayers: "没有可查看的图层",
    unknownLayer: "未找到图层“{{id}}”",
    failed: "模型加载失败：{{message}}",
  },
  // This page shows building elements, not whole buildings.
  props: { hint: "单击构件查看属性" },
};

export const inspectEn: typeof inspectZh = {
  inspect: {
    title: "Close inspection",
    back: "← Back to the scene",
    backTitle: "Back to the Cesium city scene",
    reset: "Reset",
    resetTitle: "Reset the view",
    hint: "Left-drag to orbit · right-drag to pan · wheel to zoom · click an element for its properties",
    loading: "Loading model…",
    ready: "Model ready",
    noLayers: "No layer to inspect",
    unknownLayer: "Layer “{{id}}” not found",
    failed: "The model could not be loaded: {{message}}",
  },
  props: { hint: "Click an element to see its properties" },
};
