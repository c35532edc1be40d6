--[[
book.lua -- the small Quarto features that depend on the output format.

  * `::: {.content-visible when-format="html"}` / `unless-format=` and `.content-hidden`:
    conditional content (format names as in Quarto: html, pdf/typst, epub, revealjs);
  * `fig-alt` on an image becomes its `alt` text (pandoc otherwise repeats the caption);
  * a `.code-fold` Div (from `#| code-fold:`) becomes `<details>` in HTML and is unwrapped
    elsewhere, since paper cannot fold.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local function format_matches(name)
  if name == 'html' then
    return FORMAT:match('html') ~= nil and not FORMAT:match('epub')
  elseif name == 'pdf' or name == 'typst' then
    return FORMAT:match('typst') ~= nil or FORMAT:match('latex') ~= nil
  elseif name == 'epub' then
    return FORMAT:match('epub') ~= nil
  elseif name == 'revealjs' then
    return FORMAT:match('revealjs') ~= nil
  end
  return FORMAT == name
end

local function any_matches(list)
  for name in list:gmatch('[^,%s]+') do
    if format_matches(name) then return true end
  end
  return false
end

local function visible(div)
  local when = div.attributes['when-format']
  local unless = div.attributes['unless-format']
  local shown = true
  if when then shown = any_matches(when) end
  if unless then shown = shown and not any_matches(unless) end
  return shown
end

function Div(div)
  if div.classes:includes('content-visible') then
    return visible(div) and div.content or {}
  elseif div.classes:includes('content-hidden') then
    return visible(div) and {} or div.content
  elseif div.classes:includes('code-fold') then
    if FORMAT:match('html') and not FORMAT:match('epub') then
      local summary = (div.attributes['summary'] or 'Code')
        :gsub('&', '&amp;'):gsub('<', '&lt;'):gsub('>', '&gt;')
      local open = div.attributes['open'] == 'true' and ' open' or ''
      local blocks = pandoc.List({pandoc.RawBlock('html',
        '<details class="code-fold"' .. open .. '><summary>' .. summary .. '</summary>')})
      blocks:extend(div.content)
      blocks:insert(pandoc.RawBlock('html', '</details>'))
      return blocks
    end
    return div.content
  end
  return nil
end

function Image(img)
  local alt = img.attributes['fig-alt']
  if alt then
    img.attributes['fig-alt'] = nil
    img.attributes['alt'] = alt
    return img
  end
  return nil
end
